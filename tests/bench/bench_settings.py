"""Settings for the benchmarks' gunicorn: the project's settings plus the bare floor view's URL."""

from pathlib import Path

import django.contrib.admin

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.floor"
# Serve without collectstatic: the manifest storage would need it, and static files are not what is measured.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Django's bare admin (tests/bench/floor.py) renders with Django's own admin templates: an engine that finds only
# those (Unfold's, found first by the project's engine, expect Unfold's admin site).
_DJANGO_ADMIN_TEMPLATES = Path(django.contrib.admin.__file__).parent / "templates"
TEMPLATES = [
    *TEMPLATES,  # noqa: F405
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "NAME": "bare",
        "DIRS": [_DJANGO_ADMIN_TEMPLATES],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": TEMPLATES[0]["OPTIONS"]["context_processors"]},  # noqa: F405
    },
]
