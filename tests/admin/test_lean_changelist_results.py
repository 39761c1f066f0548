"""The project's changelists render their table of rows in Python (config.lean_changelist); the HTML must be, byte
for byte, what Unfold's ``change_list_results.html`` renders for the same rows in the same request: the row
actions, links and cell labels are what agents click and what the narrow layout shows."""

import pytest
from django.contrib import admin

import config.templatetags.lean_admin as tags
from appeasements.models import Appeasement
from config.admin_mixins import LEAN_CHANGE_LIST_TEMPLATE
from config.lean_changelist import ROWS_TEMPLATE
from issues.models import ApprovalRequest, Notification, OrderIssue
from orders.models import Order, OrderItem, Refund
from returns.models import Return
from tests.admin.renderings import both_renderings
from tests.admin.test_growing_tables import changelist, rows  # noqa: F401 - a fixture: a row in each table
from tests.admin.test_pages import add_everything
from tests.admin.test_workspace import logged_in
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def unfolds_table(context, engine) -> str:
    return engine.get_template(f"admin/{ROWS_TEMPLATE}").render(context)


# each table a changelist renders, as (config.lean_changelist's HTML, Unfold's template's HTML)
renderings = both_renderings(tags, "render_results", unfolds_table)


def test_the_daily_changelists_tables_are_unfolds_html(renderings, rows, agent, manager):  # noqa: F811
    order = order_with_items()
    issue = issue_factory(order, assigned_to=agent)
    add_everything(order, issue, agent, manager, 2)  # appeasements, returns and approval requests (row actions)
    client = logged_in(manager)
    urls = [changelist(model) for model in (OrderIssue, Order, OrderItem, Refund, Appeasement, Return, Notification)]
    urls += [
        changelist(OrderIssue) + "?status__exact=in_progress&o=2",  # a filter and a sorted column
        changelist(OrderIssue) + f"?q={issue.issue_id}",
        changelist(ApprovalRequest) + "?state__exact=pending",  # Approve and Reject on each row
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
        [(fast, slow)] = renderings
        assert fast is not None, url  # rendered in Python, not through the fallback
        assert fast == slow, url
        renderings.clear()
    assert "approve-from-list" in slow  # the inbox's row actions were compared too


def test_a_changelist_without_rows_keeps_unfolds_template(renderings, manager):
    response = logged_in(manager).get(changelist(OrderIssue) + "?status__exact=closed")
    assert response.status_code == 200
    [(fast, _slow)] = renderings
    assert fast is None  # Unfold's "no results" include, through its template


def test_the_project_admins_use_the_lean_changelist():
    lean = [a for a in admin.site._registry.values() if a.change_list_template == LEAN_CHANGE_LIST_TEMPLATE]
    assert {type(a).__name__ for a in lean} >= {"DeskOrderIssueAdmin", "DeskOrderAdmin", "AppeasementAdmin"}
