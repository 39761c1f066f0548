"""OpenAPI schema and Swagger UI."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_lists_order_paths(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/order-items/{order_item_id}",
        "/api/v1/categories",
    ):
        assert path in paths, path
    patch = paths["/api/v1/orders/{order_id}/order-items/{order_item_id}"]["patch"]
    assert {"200", "400", "404", "409"} <= set(patch["responses"])


def test_schema_as_json(client):
    r = client.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200


def test_swagger_ui(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert b"swagger" in r.content.lower()
