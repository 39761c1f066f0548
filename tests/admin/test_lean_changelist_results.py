"""The project's changelists render their table of rows in Python (config.lean_changelist); the HTML must be, byte
for byte, what Unfold's ``change_list_results.html`` renders for the same rows in the same request: the row
actions, links and cell labels are what agents click and what the narrow layout shows."""

import pytest
from django.contrib import admin
from unfold.templatetags import unfold_list

import config.lean_changelist as lean
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


@pytest.fixture
def cell_pairs(monkeypatch):
    """Each row's cells, as (config.lean_changelist's, Unfold's ``items_for_result``)."""
    seen = []
    lean_cells = lean.row_cells

    def both(cl, headers):
        cells = lean_cells(cl, headers)

        def compare(result):
            mine = list(cells(result))
            seen.append((mine, list(unfold_list.items_for_result(cl, result, None))))
            return iter(mine)

        return compare

    monkeypatch.setattr(lean, "row_cells", both)
    return seen


def test_each_rows_cells_are_unfolds(cell_pairs, rows, agent, manager):  # noqa: F811
    order = order_with_items()
    add_everything(order, issue_factory(order, assigned_to=agent), agent, manager, 2)
    client = logged_in(manager)
    urls = [changelist(model) for model in (OrderIssue, Order, OrderItem, Refund, Appeasement, Return, Notification)]
    urls += [
        changelist(OrderIssue) + "?status__exact=in_progress&o=-2.3",  # the links keep the filters and order
        changelist(OrderIssue) + f"?q={order.customer_email}&o=1",
        changelist(ApprovalRequest) + "?state__exact=pending",
        changelist(Order) + "?_to_field=id&_popup=1",  # the order picker of the issue form (raw id)
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
        assert cell_pairs, url
        for mine, unfolds in cell_pairs:
            assert mine == unfolds, url
        cell_pairs.clear()


def test_a_columns_every_kind_of_value_is_unfolds_cell(cell_pairs, monkeypatch, manager, agent):
    """The cells a column of the admin's own fills straight (a safe text, a plain one to escape, None) and the ones
    that take Unfold's whole way (a number, a date, a boolean column, a label column, a missing related row)."""
    from django.utils.safestring import mark_safe
    from unfold.decorators import display

    from orders.models import Order as OrderModel

    def missing(obj):
        raise OrderModel.DoesNotExist

    columns = {
        "safe": lambda obj: mark_safe("<b>safe</b>"),
        "plain": lambda obj: "<i>escaped</i> & co",
        "nothing": lambda obj: None,
        "number": lambda obj: 1234,
        "when": lambda obj: obj.created_at,
        "flag": admin.display(boolean=True)(lambda obj: True),
        "badge": display(label=True)(lambda obj: "open"),
        "gone": missing,
        "empty_text": admin.display(empty_value="(none)")(lambda obj: None),
    }
    model_admin = admin.site._registry[OrderIssue]
    for name, column in columns.items():
        column.short_description = name
        monkeypatch.setattr(model_admin, name, column, raising=False)
    monkeypatch.setattr(model_admin, "list_display", ("issue", *columns))
    issue_factory(order_with_items(), assigned_to=agent)
    assert logged_in(manager).get(changelist(OrderIssue)).status_code == 200
    assert cell_pairs
    for mine, unfolds in cell_pairs:
        assert mine == unfolds
    cells = "".join(cell_pairs[0][0])
    assert "<b>safe</b>" in cells
    assert "&lt;i&gt;escaped&lt;/i&gt; &amp; co" in cells
    assert "(none)" in cells
