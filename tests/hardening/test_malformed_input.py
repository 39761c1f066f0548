"""Every malformed-input class against every operation of the three dialects (issue 21).

The operations come from the OpenAPI schema, which drf-spectacular generates from the URL configuration: a new
endpoint is covered without editing this file. For each operation and each class of bad input (JSON nested too
deep, a body over the size limit, a list over its maximum, a NUL in a path id or in a text field, a value of the
wrong JSON type, an unknown query parameter), the answer is the expected 4xx in the dialect's envelope and the
database is unchanged (every row of the project's apps, history tables included).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.authtoken.models import Token

from returns.models import AccountAPIKey
from tests.factories import employee, issue_factory, order_with_items
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db

ACCOUNT = "5e3598e3007c5e00080d2bb8"
PREFIXES = ("/api/v1/", "/api-order/", "/ccagent/v1/")
ENVELOPES = {
    "/api/v1/": {"success", "message", "error_code"},
    "/api-order/": {"code", "message"},
    "/ccagent/v1/": {"errorCode", "message", "status", "errors"},
}
WRITES = ("post", "put", "patch")


def openapi() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


SCHEMA = openapi()
METHODS = ("get", "post", "put", "patch", "delete")

OPERATIONS = [
    (path, method, item[method])
    for path, item in SCHEMA["paths"].items()
    if path.startswith(PREFIXES)
    for method in METHODS
    if method in item
]


def resolve(node: dict) -> dict:
    while "$ref" in node:
        node = SCHEMA["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:
        merged: dict = {"type": "object", "properties": {}}
        for part in node["allOf"]:
            merged["properties"].update(resolve(part).get("properties", {}))
        return merged
    return node


def request_schema(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    return resolve(media["schema"]) if media else None


def properties(operation: dict) -> dict[str, dict]:
    body = request_schema(operation)
    return {name: resolve(prop) for name, prop in (body or {}).get("properties", {}).items()} if body else {}


def json_type(prop: dict) -> str | None:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "enum" in prop:
        kind = "string"
    return kind


WRONG = {"string": 12345, "integer": "7", "number": "10.00", "boolean": 0, "array": "x", "object": "x"}


def sample(prop: dict):
    """A value of the property's own type (an array's item, to make an oversize list)."""
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "object": {}}.get(json_type(prop) or "", "x")


# --------------------------------------------------------------------------- the world, built once per module


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build() -> dict:
    from appeasements import services as appeasement_services
    from issues import services as issue_services
    from issues.models import ApprovalRequest

    agent, manager = employee("emp_cs_001", "agent"), employee("emp_mgr_001", "manager")
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT, channel=12)
    issue = issue_factory(order, actor=agent, assigned_to=agent, status="in_progress")
    issue_services.issue_update(
        order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "escalated", "notes": "x"}
    )
    appeasement = appeasement_services.appeasement_create(
        caller=manager,
        data=appeasement_services.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[appeasement_services.RefundInput(refund_type="externalRefund", amount=Decimal("5.00"))],
        ),
    )
    subscription = Subscription.objects.create(url="https://hooks.example.com/in", account=ACCOUNT, owner=manager)
    _, fabric_key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    return {
        "token": Token.objects.get_or_create(user=manager)[0].key,
        "fabric_key": fabric_key,
        "ids": {
            "order_id": order.order_id,
            "issue_id": issue.issue_id,
            "order_item_id": str(order.items.first().order_item_id),
            "appeasement_id": appeasement.appeasement_id,
            "approval_id": ApprovalRequest.objects.get(issue=issue, state="pending").approval_id,
            "subscription_id": subscription.subscription_id,
        },
    }


def headers(world, path: str) -> dict[str, str]:
    if path.startswith("/api-order/"):
        return {"HTTP_X_API_KEY": world["fabric_key"], "HTTP_X_SITE_CONTEXT": json.dumps({"account": ACCOUNT})}
    keyword = "Bearer" if path.startswith("/ccagent/") else "Token"
    return {"HTTP_AUTHORIZATION": f"{keyword} {world['token']}"}


def url_of(world, path: str, **override: str) -> str:
    for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
        path = path.replace("{" + name + "}", override.get(name, world["ids"].get(name, "x")))
    return path


def fingerprint() -> dict:
    models = [m for label in ("config", "orders", "issues", "appeasements", "returns", "webhooks")
              for m in apps.get_app_config(label).get_models()]  # fmt: skip
    return {m._meta.label: list(m._base_manager.order_by("pk").values_list()) for m in models}


def send(world, method: str, path: str, url: str, body: str | None = None):
    client = Client()
    kwargs = headers(world, path)
    if body is not None:
        return getattr(client, method)(url, data=body, content_type="application/json", **kwargs)
    return getattr(client, method)(url, **kwargs)


def assert_refused(response, path: str, status: int, label: str) -> None:
    assert response.status_code == status, (label, response.status_code, response.content[:300])
    body = response.json()
    prefix = next(p for p in PREFIXES if path.startswith(p))
    assert ENVELOPES[prefix] <= set(body), (label, body)


# --------------------------------------------------------------------------- the cases


def cases() -> list[tuple[str, str, str]]:
    """(class, method, path) for every operation and every class of bad input that applies to it."""
    found = []
    for path, method, operation in OPERATIONS:
        found.append(("unknown query parameter", method, path))
        if "{" in path:
            found.append(("NUL in a path id", method, path))
        if method in WRITES and request_schema(operation) is not None:
            found += [("deep nesting", method, path), ("oversize body", method, path)]
            props = properties(operation)
            if any(json_type(p) == "array" for p in props.values()):
                found.append(("oversize list", method, path))
            if any(json_type(p) == "string" for p in props.values()):
                found.append(("NUL in a field", method, path))
            if any(json_type(p) in WRONG for p in props.values()):
                found.append(("wrong JSON types", method, path))
    return found


CASES = cases()


def test_every_operation_of_the_three_dialects_is_covered():
    covered = {(method, path) for _, method, path in CASES}
    assert covered == {(method, path) for path, method, _ in OPERATIONS}
    assert {kind for kind, _, _ in CASES} == {
        "unknown query parameter",
        "NUL in a path id",
        "deep nesting",
        "oversize body",
        "oversize list",
        "NUL in a field",
        "wrong JSON types",
    }
    assert len(OPERATIONS) > 30  # the schema was generated, with every dialect
    assert {p for p in PREFIXES if any(path.startswith(p) for path, _, _ in OPERATIONS)} == set(PREFIXES)


def routed_api_operations() -> set[tuple[str, str]]:
    """(method, path) of every view the URL configuration routes under the three prefixes, read from the resolver
    (not from the schema), in the schema's path form (``<str:order_id>`` -> ``{order_id}``)."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            else:
                yield route, pattern

    found = set()
    for route, pattern in walk(get_resolver().url_patterns):
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.lstrip("^").rstrip("$"))
        view = getattr(pattern.callback, "cls", None)
        if not path.startswith(PREFIXES) or view is None:
            continue
        found |= {(m, path) for m in METHODS if hasattr(view, m) and m in view.http_method_names}
    return found


def test_every_routed_api_view_is_in_the_schema_so_it_is_covered():
    """A new endpoint under the three prefixes reaches the cases above through the schema; one left out of the
    schema (``exclude=True``, a plain Django view) fails here instead of escaping the malformed-input test."""
    routed = routed_api_operations()
    assert len(routed) > 30
    assert routed - {(method, path) for path, method, _ in OPERATIONS} == set()


@pytest.mark.parametrize(("kind", "method", "path"), CASES, ids=[f"{k}: {m.upper()} {p}" for k, m, p in CASES])
def test_malformed_input_is_a_4xx_in_the_dialect_and_changes_nothing(world, kind, method, path):
    operation = SCHEMA["paths"][path][method]
    props = properties(operation)
    attempts: list[tuple[str, str, str | None, int]] = []  # (label, url, body, expected status)
    url = url_of(world, path)
    if kind == "unknown query parameter":
        attempts.append((kind, f"{url}?zz_unknown_parameter=1", "{}" if method in WRITES else None, 400))
        # and each parameter the operation does take, sent empty: no silent default
        for name in [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]:
            attempts.append((f"empty {name}", f"{url}?{name}=", "{}" if method in WRITES else None, 400))
    elif kind == "NUL in a path id":
        for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
            bad = url_of(world, path, **{name: "%00"})
            attempts.append((f"{kind} ({name})", bad, "{}" if method in WRITES else None, 404))
    elif kind == "deep nesting":
        attempts.append((kind, url, '{"a": ' + "[" * 1000 + "]" * 1000 + "}", 400))
    elif kind == "oversize body":
        attempts.append((kind, url, json.dumps({"notes": "x" * (300 * 1024)}), 413))
    elif kind == "oversize list":
        for name, prop in props.items():
            if json_type(prop) == "array":
                items = resolve(prop.get("items", {}))
                too_many = (prop.get("maxItems") or 1000) + 1
                attempts.append((f"{kind} ({name})", url, json.dumps({name: [sample(items)] * too_many}), 400))
    elif kind == "NUL in a field":
        for name, prop in props.items():
            if json_type(prop) == "string":
                attempts.append((f"{kind} ({name})", url, json.dumps({name: "a\u0000b"}), 400))
    elif kind == "wrong JSON types":
        for name, prop in props.items():
            if json_type(prop) in WRONG:
                attempts.append((f"{kind} ({name})", url, json.dumps({name: WRONG[json_type(prop)]}), 400))
    assert attempts, (kind, method, path)
    for label, target, body, status in attempts:
        with transaction.atomic():
            before = fingerprint()
            response = send(world, method, path, target, body)
            assert_refused(response, path, status, f"{label}: {method.upper()} {target[:80]}")
            assert fingerprint() == before, f"{label}: {method.upper()} {path} changed the database"
            transaction.set_rollback(True)
