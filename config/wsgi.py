"""The WSGI application (gunicorn: ``config.wsgi``, docs/operations.md).

Once the application and its URLconf (every view, serializer and admin) are loaded, ``gc.freeze()`` moves the
objects they made, about 150,000, to the collector's permanent generation: they live as long as the process, and
every full collection walked them all. Measured over 600 issue PATCHes in one process: a full collection paused
a request for 61-66 ms, after the freeze for 3 ms; the slowest request 86-130 ms -> 40 ms (the bench's p99 had
single stalls of 80-180 ms). CPython's documentation recommends it for pre-fork servers.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports the URLconf now, so that what it loads is frozen too
gc.freeze()
