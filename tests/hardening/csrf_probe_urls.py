"""The project's URLs plus ordinary (non-DRF, CSRF-protected) views under each API prefix and outside them.

DRF views are CSRF-exempt (DRF's SessionAuthentication checks the token itself) and the API's catch-all is
exempt too, so these probes are what reaches Django's own CSRF check, hence ``CSRF_FAILURE_VIEW``.
"""

from django.http import Http404, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


def probe(request):
    return HttpResponse("changed", content_type="text/plain")


def missing(request):
    raise Http404("nothing here: Django's DEBUG page would be HTML")


urlpatterns = [
    path("api/v1/_probe", probe),
    path("api-order/_probe", probe),
    path("ccagent/v1/_probe", probe),
    path("_probe", probe),
    path("api/v1/_missing", missing),
    path("api-order/_missing", missing),
    path("ccagent/v1/_missing", missing),
    *project_urlpatterns,
]
