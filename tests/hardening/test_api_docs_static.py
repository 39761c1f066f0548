"""The API docs' assets come from our static files in production too (issue 21).

``DEBUG=0`` serves static files through whitenoise's compressed manifest storage, filled by
``collectstatic``: the Swagger UI and ReDoc bundles of drf-spectacular-sidecar (and the source maps they
name) must survive its post-processing, and the docs pages must point at the hashed copies, never a CDN.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = PRODUCTION_STATIC
    call_command("collectstatic", "--noinput", verbosity=0)
    return tmp_path


def test_docs_use_the_collected_files(client, collected):
    for path in ("/api/docs/", "/api/redoc/"):
        r = client.get(path)
        assert r.status_code == 200
        html = r.content.decode()
        assert "cdn." not in html
        assert "googleapis" not in html
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert assets
        for asset in assets:
            assert re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", asset), asset  # the manifest's hashed name
            assert (collected / asset.removeprefix("/static/")).is_file(), asset


def test_the_docs_ask_no_public_validator(client):
    html = client.get("/api/docs/").content.decode()
    assert '"validatorUrl": null' in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
