"""Settings for the benchmarks' gunicorn: the project's settings plus the bare floor view's URL."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.floor"
# Serve without collectstatic: the manifest storage would need it, and static files are not what is measured.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
