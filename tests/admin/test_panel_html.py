"""desk.panel_html: the workspace's order panel and timeline rendered in Python are their templates' markup, byte for
byte (``order_panel.html``, ``timeline_items.html``): a quiet issue and a busy one, with and without the money."""

import pytest
from django.template import RequestContext
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import resolve

from desk import workspace
from desk.panel_html import order_panel_html, timeline_items_html
from issues.selectors import issue_page, timeline_event
from tests.admin.test_pages import add_everything
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def page_context(user, issue, **extra) -> RequestContext:
    url = f"/admin/issues/orderissue/{issue.pk}/change/"
    request = RequestFactory().get(url)
    request.user = user
    request.resolver_match = resolve(url)
    return RequestContext(request, extra)


def both(template: str, render, context) -> tuple[str, str]:
    """The template's rendering (as the page's include) and the Python's, in the same context."""
    with context.push():
        expected = get_template(template).template.render(context)
    return render(context), expected


@pytest.mark.parametrize("busy", [False, True])
def test_the_order_panel_is_its_templates_markup(agent, manager, busy):
    order = order_with_items(items=3, customer_first_name="O'Brien & <Sons>", customer_phone="")
    issue = issue_factory(order, assigned_to=agent, title="A <long> title " * 5)
    if busy:
        add_everything(order, issue, agent, manager, 3)
        order.payments.update(card_last_four="4242")
    panel = workspace.order_panel(order, issue)
    for money in (panel.money, None):
        context = page_context(agent, issue, panel=panel, money=money)
        got, expected = both(
            "admin/issues/orderissue/order_panel.html",
            lambda c, money=money: order_panel_html(panel, money, c),
            context,
        )
        assert got == expected
        assert ("Refundable" in got) == (money is not None)
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in got  # escaped
    assert "<dt>Phone</dt><dd>—</dd>" in got  # an empty one's default


@pytest.mark.parametrize("busy", [False, True])
def test_the_timeline_is_its_templates_markup(agent, manager, busy):
    order = order_with_items()
    issue = issue_factory(order, assigned_to=agent)
    events = []
    if busy:
        add_everything(order, issue, agent, manager, 3)
        events = issue_page(issue.pk).timeline
        events.append(timeline_event(issue.created_at, "a <b>", "note", "x & y", "d" * 400))
    for timeline in (events, []):
        context = page_context(agent, issue, timeline=timeline)
        got, expected = both(
            "admin/issues/orderissue/timeline_items.html",
            lambda c, timeline=timeline: timeline_items_html(timeline, c),
            context,
        )
        assert got == expected
    assert "Nothing yet." in got  # the empty timeline, last
