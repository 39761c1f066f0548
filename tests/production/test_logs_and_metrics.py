"""JSON logs with a request id, the employee and the latency; /metrics behind a bearer token, with the business
gauges an on-call engineer needs, read with a fixed number of queries."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import structlog
from django.utils import timezone

from config.log_format import logging_config
from issues.models import ApprovalRequest
from orders.models import Refund
from tests.factories import issue_factory, order_with_items
from webhooks.models import Delivery, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The request log lines as the production formatter writes them, parsed."""
    formatter_config = logging_config(level="INFO", json=True)["formatters"]["structured"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=formatter_config["processors"], foreign_pre_chain=formatter_config["foreign_pre_chain"]
        )
    )
    request_logger = logging.getLogger("django_structlog.middlewares.request")
    old_level = request_logger.level
    request_logger.addHandler(handler)
    request_logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    request_logger.removeHandler(handler)
    request_logger.setLevel(old_level)


def test_a_request_logs_one_json_line_with_its_id_employee_and_latency(api, agent, json_log):
    order = order_with_items()
    r = api(agent).get(f"/api/v1/orders/{order.order_id}", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert r.status_code == 200
    assert r["X-Request-ID"] == "lb-7f3a.42"
    [line] = [entry for entry in json_log() if entry["event"] == "request_finished"]
    assert line["request_id"] == "lb-7f3a.42"
    assert line["user_id"] == agent.username  # the employee id, authenticated by DRF's token
    assert line["code"] == 200
    assert line["level"] == "info"
    assert line["request"] == f"GET /api/v1/orders/{order.order_id}"
    assert line["latency_ms"] >= 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", line["timestamp"])


@pytest.mark.parametrize("supplied", [None, "", "x" * 129, "two words", "id\u2028forged"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, json_log, supplied):
    extra = {} if supplied is None else {"HTTP_X_REQUEST_ID": supplied}
    r = client.get("/healthz", **extra)
    made = r["X-Request-ID"]
    assert str(uuid.UUID(made)) == made
    assert [e["request_id"] for e in json_log() if e["event"] == "request_finished"] == [made]


def test_a_4xx_is_logged_as_a_warning_with_its_code(client, json_log):
    r = client.get("/api/v1/orders/nope")
    assert r.status_code in (401, 403)
    [line] = [entry for entry in json_log() if entry["event"] == "request_finished"]
    assert line["level"] == "warning"
    assert line["code"] == r.status_code


# ----------------------------------------------------------------------------- /metrics


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = "scrape-3c1d"
    return settings.METRICS_TOKEN


def scrape(client, token="scrape-3c1d"):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def gauge(body: str, name: str, **labels) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{label_text}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, body, re.M)
    assert match, f"{name} {labels} not in the page"
    return float(match.group(1))


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert scrape(client, "").status_code == 404


@pytest.mark.usefixtures("metrics_token")
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic scrape-3c1d", "Bearer", "scrape-3c1d"])
def test_metrics_need_the_bearer_token(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    r = client.get("/metrics", **extra)
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert b"backoffice_" not in r.content


def business_rows(agent):
    order = order_with_items(items=4, unit_price=Decimal("20.00"))
    old = Refund.objects.create(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    Refund.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=30))
    Refund.objects.create(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    OutboxEvent.objects.update(dispatched_at=None)
    OutboxEvent.objects.create(type="order.created", account=order.account, order_key=order.order_id, body="{}")
    OutboxEvent.objects.filter(dispatched_at__isnull=True).update(created_at=timezone.now() - timedelta(seconds=90))
    sub = Subscription.objects.create(account=order.account, url="https://example.com/hook", event_types=[])
    event = OutboxEvent.objects.first()
    Delivery.objects.create(event=event, subscription=sub, stream_key="s", seq=event.pk, status="failed")
    issue = issue_factory(order, actor=agent, assigned_to=agent)
    ApprovalRequest.objects.create(
        kind="escalation", issue=issue, target_type="issue", target_id=issue.issue_id, requested_by=agent
    )


@pytest.mark.usefixtures("metrics_token")
def test_metrics_show_the_business_gauges(client, agent):
    business_rows(agent)
    r = scrape(client)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    body = r.content.decode()
    assert gauge(body, "backoffice_business_metrics_up") == 1
    assert gauge(body, "backoffice_refunds_unsettled", status="pending") == 2
    assert gauge(body, "backoffice_refunds_unsettled", status="processing") == 0
    assert gauge(body, "backoffice_refunds_settled_last_day", status="failed") == 0
    assert 1790 <= gauge(body, "backoffice_refund_oldest_unsettled_age_seconds") <= 1900
    assert gauge(body, "backoffice_outbox_undispatched_events") == OutboxEvent.objects.count()
    assert 89 <= gauge(body, "backoffice_outbox_lag_seconds") <= 200
    assert gauge(body, "backoffice_webhook_deliveries", status="failed") == 1
    assert gauge(body, "backoffice_pending_approvals", kind="issue") == 1
    assert gauge(body, "backoffice_pending_approvals", kind="appeasement") == 0
    # django-prometheus's request metrics by view are on the same page
    assert "django_http_requests_total_by_view_transport_method_total" in body


@pytest.mark.usefixtures("metrics_token")
def test_a_scrape_reads_a_fixed_number_of_queries_however_much_data(client, agent, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        assert scrape(client).status_code == 200
    for _ in range(3):
        business_rows(agent)
    with django_assert_max_num_queries(9):
        assert scrape(client).status_code == 200


@pytest.mark.usefixtures("metrics_token")
def test_a_database_error_in_the_gauges_still_answers_the_request_metrics(client, monkeypatch):
    from desk import metrics as desk_metrics

    def broken(self):
        raise RuntimeError("database gone")

    monkeypatch.setattr(desk_metrics.BusinessCollector, "_families", broken)
    r = scrape(client)
    assert r.status_code == 200
    body = r.content.decode()
    assert gauge(body, "backoffice_business_metrics_up") == 0
    assert "backoffice_refunds_unsettled" not in body


def test_a_process_given_a_metrics_folder_that_does_not_exist_yet_starts(tmp_path):
    """An environment file shared by every process may name PROMETHEUS_MULTIPROC_DIR before gunicorn made it:
    the worker or the scheduler starts anyway (prometheus_client crashed at its first metric)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path / "not-yet" / "prom"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert folder.is_dir()
