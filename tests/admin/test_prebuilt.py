"""config.prebuilt: a query whose SQL is built once is the ORM's query (the same SQL and params for any values,
the same objects, with their annotations and ``select_related`` rows) — every one the issue workspace runs."""

import pytest
from django.db.models import Model
from django.utils import timezone

from config import prebuilt
from desk import workspace
from issues import selectors
from issues.models import OrderIssue
from tests.admin.test_pages import add_everything
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def snapshot(obj: Model) -> dict:
    """An object's fields and annotations, and those of the related objects read with it, as plain values."""
    seen = {k: v for k, v in obj.__dict__.items() if not k.startswith("_")}
    for name, related in obj._state.fields_cache.items():
        seen[f"{name}."] = snapshot(related) if related is not None else None
    return seen


@pytest.fixture
def workspace_rows(agent, manager):
    """An issue with notes, history, refunds, approval requests, appeasements, returns and other issues, on an order
    whose customer has another order with an issue: each prebuilt read finds rows."""
    order = order_with_items(items=3)
    issue = issue_factory(order, assigned_to=agent, priority="high")
    add_everything(order, issue, agent, manager, 2)
    OrderIssue.objects.get(pk=issue.pk).save()  # a second history row
    other_order = order_with_items(items=1, customer_email=order.customer_email)
    issue_factory(other_order, assigned_to=agent)
    no_email = order_with_items(items=1, customer_email="")
    issue_factory(no_email)
    return {
        "panel-items": (order.pk,),
        "panel-payments": (order.pk,),
        "panel-refunds": (order.pk,),
        "panel-returns": (order.pk,),
        "panel-customer-issues": (order.customer_email, issue.pk),
        "panel-order-issues": (no_email.pk, issue_factory(no_email).pk),
        "timeline-history": (issue.pk,),
        "timeline-notes": (issue.pk,),
        "timeline-refunds": (issue.issue_id,),
        "timeline-approvals": (issue.pk,),
        "timeline-appeasements": (issue.pk,),
        "workspace-issue": (issue.pk, agent.pk, timezone.now()),
    }


def test_every_prebuilt_query_is_its_orm_twin(workspace_rows):
    assert workspace.order_panel  # imported: the queries are made when their modules are
    assert selectors.issue_page
    assert {p.name for p in prebuilt.ALL} == set(workspace_rows)
    for query in prebuilt.ALL:
        values = workspace_rows[query.name]
        twin = query.twin(*values)
        assert query.sql_with_params(*values) == twin.query.sql_with_params(), query.name
        expected = [snapshot(obj) for obj in twin]
        assert expected, f"{query.name}: no rows to compare"
        assert [snapshot(obj) for obj in query(*values)] == expected, query.name
        assert all(type(obj) is query.model for obj in query(*values))


def test_a_sample_missing_from_the_sql_is_refused():
    query = prebuilt.Prebuilt("test-missing", lambda pk: OrderIssue.objects.filter(pk=1), (-9001,))
    prebuilt.ALL.remove(query)
    with pytest.raises(ValueError, match="not found"):
        query(5)
