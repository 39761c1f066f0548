"""The API docs work on a network without the public internet (issue 21).

Chromium may reach the live server's origin and nothing else: every other request is aborted (and recorded).
Swagger UI (``/api/docs/``) renders every operation of the schema, ReDoc (``/api/redoc/``) too, from the
app's own static files (drf-spectacular-sidecar), and neither page tries another origin.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import OUTPUT

pytestmark = pytest.mark.django_db(transaction=True)

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def schema_operations(client) -> list[tuple[str, str]]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    return [(method, path) for path, item in schema["paths"].items() for method in item if method in METHODS]


def offline(page, base: str) -> list[str]:
    """Route the page so that only ``base``'s origin answers; returns the list of refused URLs."""
    origin = urlsplit(base)[:2]
    refused: list[str] = []

    def handle(route):
        url = route.request.url
        if urlsplit(url)[:2] == origin:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return refused


def test_swagger_ui_lists_every_operation_offline(live_server, page, shots, client):
    operations = schema_operations(client)
    assert len(operations) > 30
    refused = offline(page, live_server.url)
    static_answers: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda response: static_answers.append((response.url, response.status)) if "/static/" in response.url else None,
    )

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {len(operations)}", timeout=30_000)
    shots(page, "01-swagger-ui")

    blocks = page.locator(".opblock")
    assert blocks.count() == len(operations)
    shown = {
        (block.get_attribute("id") or "")
        for block in blocks.all()  # Swagger UI's ids: operations-<tag>-<operationId>
    }
    assert all(s.startswith("operations-") for s in shown)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Order back office API")
    assert refused == []
    assert static_answers
    assert all(status == 200 for _, status in static_answers), static_answers


def test_redoc_renders_offline(live_server, page, shots, client, request):
    operations = schema_operations(client)
    refused = offline(page, live_server.url)

    page.goto(f"{live_server.url}/api/redoc/")
    selector = "[data-section-id^='operation/']"  # one section per operation: operation/<operationId>
    page.wait_for_selector(selector, timeout=60_000)
    # the viewport only (the whole page is 50,000 pixels high), beside the other tests' screenshots
    page.screenshot(path=str(OUTPUT / request.node.name / "01-redoc.png"))
    sections = page.eval_on_selector_all(selector, "nodes => [...new Set(nodes.map(n => n.dataset.sectionId))]")
    assert len(sections) == len(operations), sections
    assert refused == []
