"""The OpenAPI schema documents the returns endpoints with their error bodies and the x-api-key scheme."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_and_documents_returns(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]

    ret = paths["/api-order/orders/return"]["patch"]
    assert ret["security"] == [{"fabricApiKey": []}]
    assert {p["name"]: p.get("required", False) for p in ret["parameters"]} == {
        "x-site-context": True,
        "If-Match": False,
        "Idempotency-Key": False,
    }
    assert set(ret["responses"]) == {"200", "400", "401", "403", "404", "409", "412", "413", "422", "429", "500"}
    assert "ETag" in ret["responses"]["200"]["headers"]
    assert ret["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/FabricError")
    assert schema["components"]["securitySchemes"]["fabricApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A fabric API key (`manage.py create_api_key`), bound to one account.",
    }
    assert "get" in paths["/api-order/orders/{order_id}"]
    assert "patch" in paths["/api-order/orders/cancel"]
    assert set(paths["/api/v1/orders/{order_id}/returns"]) == {"get", "post"}
    order = schema["components"]["schemas"]["FabricOrder"]["properties"]
    for name in ("orderId", "orderTotal", "taxTotal", "orderCurrency", "statusDescriptions", "shipTo", "items"):
        assert name in order
    assert order["orderTotal"]["type"] == "number"
