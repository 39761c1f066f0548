"""History tables are indexed for how the audit trail is read (issue 8): by the tracked row, newest first, and
by the employee who wrote it. None of the tracked model's own indexes is copied onto its history table: each
was one more index written with every history row and served no read."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [m for m in apps.get_models() if hasattr(m, "instance_type") and hasattr(m, "history_id")]


def indexed_columns(table: str) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"]}


# Infrastructure, not domain data: stored idempotent answers, derived metric counts, API keys, the webhook outbox
# and its deliveries.
UNTRACKED = {
    "config.IdempotencyKey",
    "config.SchedulerJob",  # the scheduler's own bookkeeping: when each periodic command last ran
    "issues.IssueMetricsRollup",
    "issues.IssueMetricsDelta",
    "issues.IssueMetricsCustomerDelta",
    "issues.IssueMetricsCustomer",
    "returns.AccountAPIKey",
    "webhooks.OutboxEvent",
    "webhooks.Delivery",
    "webhooks.DeliveryAttempt",
}


def test_every_domain_model_has_its_history_table():
    """DESIGN rule 5; the index test below runs over every one of them."""
    tracked = {m.instance_type._meta.label for m in HISTORY_MODELS}
    domain = {
        m._meta.label
        for label in ("config", "orders", "issues", "appeasements", "returns", "webhooks")
        for m in apps.get_app_config(label).get_models()
        if not hasattr(m, "instance_type")
    }
    assert domain - UNTRACKED == tracked


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m._meta.label)
def test_a_history_table_indexes_only_the_tracked_row_the_date_and_the_employee(model):
    pk = model.instance_type._meta.pk.column
    assert indexed_columns(model._meta.db_table) == {(pk,), ("history_date",), ("history_user_id",)}


def test_migrations_match_the_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 when a migration is missing
    assert "No changes detected" in out.getvalue()


@pytest.mark.postgres("it checks PostgreSQL's query plan")
def test_an_issues_history_is_read_through_the_index_on_the_tracked_row(agent):
    """``/history`` of an issue and the admin's history page read the rows of one issue, not the whole table."""
    from issues.models import OrderIssue

    issue = issue_factory(order_with_items(), actor=agent)
    records = OrderIssue.history.filter(id=issue.pk).order_by("history_date", "history_id")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny: plan as for a big one
        plan = records.explain()
    assert "issues_historicalorderissue_id_" in plan, plan
    assert "Seq Scan" not in plan, plan
