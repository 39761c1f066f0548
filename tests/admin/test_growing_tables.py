"""Changelists of the tables that grow with the business (issue 8): no COUNT(*) over every matching row and no
facet counts ("Show counts"), whatever the page's filters. ``config.admin_mixins.GrowingTableAdmin``."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeasements.models import Appeasement
from config.admin_mixins import GrowingTableAdmin
from issues.models import ApprovalRequest, Notification, OrderIssue
from orders import services as order_services
from orders.models import Order, OrderItem, Refund
from returns.models import Return
from tests.factories import issue_factory, order_with_items, return_factory
from webhooks.models import Delivery, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db

GROWING = (
    Order,
    OrderItem,
    Refund,
    OrderIssue,
    ApprovalRequest,
    Notification,
    Appeasement,
    Return,
    Delivery,
    OutboxEvent,
)


@pytest.fixture
def rows(agent, manager):
    """One row (or more) in each growing table, so that every changelist renders its columns and filters."""
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", channel=12)
    issue = issue_factory(order, actor=agent, assigned_to=agent, status="in_progress")
    Notification.objects.create(recipient=agent, kind="assigned", issue=issue, message="assigned")
    order_services.refund_record(order=order, actor=agent, amount=Decimal("1.00"), source="merchant")
    return_factory(order, actor=agent)
    subscription = Subscription.objects.create(url="https://hooks.example.com/in", account="acct", created_by=manager)
    event = OutboxEvent.objects.create(type="order.cancelled", account="acct", order_key=order.order_id, body="{}")
    Delivery.objects.create(event=event, subscription=subscription, stream_key=order.order_id, seq=event.pk)


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def page_queries(client: Client, url: str) -> tuple[str, list[str]]:
    assert client.get(url).status_code == 200  # warm the per-user caches (permissions, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [re.sub(r"'[^']*'", "?", q["sql"]) for q in ctx.captured_queries]  # no times


@pytest.mark.parametrize("model", GROWING, ids=lambda m: m.__name__)
def test_growing_tables_are_administered_as_such(model):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, GrowingTableAdmin)
    assert model_admin.show_facets is admin.ShowFacets.NEVER


@pytest.mark.parametrize("model", GROWING, ids=lambda m: m.__name__)
def test_a_changelist_offers_no_facet_counts_and_ignores_the_facets_parameter(manager, rows, model):
    # given
    client = Client()
    client.force_login(manager)
    url = changelist(model)
    # when
    body, plain = page_queries(client, url)
    faceted_body, faceted = page_queries(client, url + "?_facets=True")
    # then: no link to them, and asking for them anyway runs no per-filter aggregate over the rows
    assert "Show counts" not in body
    assert "Hide counts" not in faceted_body
    assert faceted == plain


@pytest.mark.postgres("SQLite counts exactly (no planner estimate to fall back on)")
@pytest.mark.parametrize("model", GROWING, ids=lambda m: m.__name__)
def test_a_changelist_never_counts_every_row_of_its_table(manager, rows, model):
    # given
    client = Client()
    client.force_login(manager)
    table = f'"{model._meta.db_table}"'
    # when
    _, sqls = page_queries(client, changelist(model))
    # then: counts stop after 1,001 rows (a LIMITed subquery); the planner's estimate stands in above that
    counts = [q for q in sqls if q.startswith("SELECT COUNT(") and table in q]
    assert counts, sqls
    assert all(" LIMIT " in q for q in counts), counts


@pytest.mark.parametrize("model", [Order, OrderIssue, Appeasement, Return], ids=lambda m: m._meta.model_name)
def test_the_desks_big_lists_show_50_rows_and_no_month_list(model):
    """The month list of a date_hierarchy is a SELECT DISTINCT over every row on each page."""
    model_admin = admin.site._registry[model]
    assert model_admin.list_per_page == 50
    assert not model_admin.date_hierarchy


LEAN_ROWS = [model for model in GROWING if admin.site._registry[model].list_only]


def test_the_lists_that_load_part_of_each_row_are_the_issue_and_return_lists():
    assert {model._meta.model_name for model in LEAN_ROWS} == {"orderissue", "return"}


@pytest.mark.parametrize("model", LEAN_ROWS, ids=lambda m: m._meta.model_name)
@pytest.mark.parametrize("viewer", ["agent", "manager"])
def test_a_list_that_loads_part_of_each_row_shows_what_whole_rows_show(request, rows, model, viewer, monkeypatch):
    """``list_only``: the same page, byte for byte, and the same number of queries as with whole rows (a field left
    out would be read by a query of its own per row); the row query leaves out the order's other columns."""
    # given
    order_with_items(items=1)  # a second order, its issue and return: more than one row per list
    issue = issue_factory(Order.objects.order_by("-pk").first(), assigned_to=request.getfixturevalue("agent"))
    return_factory(issue.order, actor=request.getfixturevalue("agent"))
    client = Client()
    client.force_login(request.getfixturevalue(viewer))
    url = changelist(model)
    # when
    lean_body, lean_sqls = page_queries(client, url)
    monkeypatch.setattr(admin.site._registry[model], "list_only", None)
    whole_body, whole_sqls = page_queries(client, url)
    # then
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", lean_body) == token.sub("", whole_body)
    assert len(lean_sqls) == len(whole_sqls)
    row_query = next(
        q for q in lean_sqls if q.startswith("SELECT") and f'FROM "{model._meta.db_table}"' in q and "COUNT(" not in q
    )
    assert '"orders_order"."order_id"' in row_query
    assert '"orders_order"."customer_email"' not in row_query
    assert '"orders_order"."tags"' not in row_query
