"""The issue workspace's order panel (``admin/issues/orderissue/order_panel.html``) and timeline list (the
``<ol class="timeline-list">`` of ``admin/issues/orderissue/change_form.html``) rendered in Python: the same
markup, every value formatted and escaped as the template engine does (``render_value_in_context``, the ``date``
and ``truncatechars`` filters, ``{% url %}``). tests/admin/test_panel_html.py renders both ways and compares the
bytes; the templates stay the reference (and the order panel's template what the Python follows).
"""

from __future__ import annotations

from django.template.base import render_value_in_context
from django.template.defaultfilters import date, truncatechars
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.timezone import template_localtime

from config.lean_changelist import value_renderer

EMPTY_ROW = "<tr><td>None</td></tr>"
ISSUE_URL = "admin:issues_orderissue_change"


PK_MARK = 987654321987  # a pk no page has: its place in a reversed URL is where a row's pk goes


def _urls(context):
    """``{% url name pk %}`` for the rows of one rendering: each URL name reversed once, with ``PK_MARK``, and a
    row's integer pk put in its place (the digits of an integer are quoted as themselves)."""
    request = context.get("request")
    current_app = getattr(request, "current_app", None) if request is not None else None
    if current_app is None and request is not None and getattr(request, "resolver_match", None):
        current_app = request.resolver_match.namespace
    split: dict[str, tuple[str, str]] = {}

    def url(name: str, pk) -> str:
        if type(pk) is not int:
            return conditional_escape(reverse(name, args=[pk], current_app=current_app))
        if name not in split:
            before, _mark, after = reverse(name, args=[PK_MARK], current_app=current_app).partition(str(PK_MARK))
            split[name] = (before, after)
        before, after = split[name]
        return conditional_escape(f"{before}{pk}{after}")

    return url


def _date(value, fmt: str, context) -> str:
    return render_value_in_context(date(template_localtime(value, context.use_tz), fmt), context)


def order_panel_html(panel, money, context) -> str:
    """``order_panel.html`` for ``panel`` (desk.workspace.order_panel), with the page's ``money``."""

    v = value_renderer(context)
    url = _urls(context)

    def default(value) -> str:
        return v(value or "—")

    order = panel.order
    refundable = (
        f'<div><dt>Refundable</dt><dd id="order-refundable">{v(money.refundable)} {v(order.currency)}</dd></div>'
        if money
        else ""
    )
    items = "".join(
        f"\n      <tr><td>{v(item.line_number)}</td><td>{v(item.store_item_name)}</td>"
        f'<td class="nowrap">{v(item.sku)}</td>\n'
        f'        <td>{v(item.quantity)}</td><td class="nowrap">{v(item.unit_price)}</td></tr>\n    '
        for item in panel.items
    )
    payments = "".join(
        f"\n      <tr><td>{v(p.payment_method)}{f' ·{v(p.card_last_four)}' if p.card_last_four else ''}</td>\n"
        f'        <td class="nowrap">{v(p.amount)} {v(p.currency)}</td><td>{v(p.get_status_display())}</td></tr>\n    '
        for p in panel.payments
    )
    refunds = "".join(
        f'\n      <tr><td class="nowrap">{v(r.amount)} {v(r.currency)}</td><td>{v(r.get_source_display())}</td>\n'
        f'        <td>{v(r.get_status_display())}</td><td class="nowrap">{_date(r.created_at, "Y-m-d", context)}</td>'
        "</tr>\n    "
        for r in panel.refunds
    )
    returns = "".join(
        f'\n      <tr><td><a class="text-primary-600" href="{url("admin:returns_return_change", ret.pk)}">'
        f"{v(ret.return_id)}</a></td>\n"
        f"        <td>{v(ret.reason.description or ret.reason)}</td>"
        f'<td class="nowrap">{v(ret.refund_amount)} {v(ret.currency)}</td></tr>\n    '
        for ret in panel.returns
    )
    others = "".join(
        f'\n      <tr><td><a class="text-primary-600" href="{url(ISSUE_URL, other.pk)}">'
        f"{v(truncatechars(other.title, 40))}</a></td>\n"
        f'        <td>{v(other.get_status_display())}</td><td class="nowrap">{v(other.order.order_id)}</td></tr>\n    '
        for other in panel.other_issues
    )

    def rows(html: str) -> str:
        return html or EMPTY_ROW

    return (
        "\n\n"
        '<section class="bo-card">\n'
        f'  <h2>Order <a class="text-primary-600" href="{url("admin:orders_order_change", order.pk)}">'
        f"{v(order.order_id)}</a>\n"
        f'    <span class="bo-pill">{v(order.get_status_display())}</span></h2>\n'
        '  <dl class="bo-facts" id="order-customer">\n'
        f"    <div><dt>Customer</dt><dd>{default(order.customer_name)}</dd></div>\n"
        '    <div><dt>E-mail</dt><dd style="overflow-wrap: anywhere;">'
        f"{default(order.customer_email)}</dd></div>\n"
        f"    <div><dt>Phone</dt><dd>{default(order.customer_phone)}</dd></div>\n"
        f"    <div><dt>Total</dt><dd>{v(order.order_total)} {v(order.currency)}</dd></div>\n"
        f"    {refundable}\n"
        "  </dl>\n"
        "  <h3>Items</h3>\n"
        '  <div class="bo-scroll"><table class="bo-table" id="order-items">\n'
        "    <thead><tr><th>#</th><th>Item</th><th>SKU</th><th>Qty</th><th>Price</th></tr></thead>\n"
        f"    <tbody>{items}</tbody>\n"
        "  </table></div>\n"
        '  <h3 style="margin-top: 12px;">Payments</h3>\n'
        '  <div class="bo-scroll"><table class="bo-table" id="order-payments">\n'
        f"    <tbody>{rows(payments)}</tbody>\n"
        "  </table></div>\n"
        '  <h3 style="margin-top: 12px;">Refunds</h3>\n'
        '  <div class="bo-scroll"><table class="bo-table" id="order-refunds">\n'
        f"    <tbody>{rows(refunds)}</tbody>\n"
        "  </table></div>\n"
        '  <h3 style="margin-top: 12px;">Returns</h3>\n'
        '  <div class="bo-scroll"><table class="bo-table" id="order-returns">\n'
        f"    <tbody>{rows(returns)}</tbody>\n"
        "  </table></div>\n"
        '  <h3 style="margin-top: 12px;">Other issues of this order and customer</h3>\n'
        '  <div class="bo-scroll"><table class="bo-table" id="other-issues">\n'
        f"    <tbody>{rows(others)}</tbody>\n"
        "  </table></div>\n"
        "</section>\n\n"
    )


def timeline_items_html(timeline, context) -> str:
    """``timeline_items.html``: the timeline's events, newest first (``timeline`` is oldest first)."""
    v = value_renderer(context)

    parts = []
    for event in reversed(timeline):
        kind = v(event["kind"])
        detail = event["detail"]
        detail_html = f'<span class="timeline-detail">{v(truncatechars(detail, 300))}</span>' if detail else ""
        parts.append(
            f'\n    <li class="event-{kind}">\n'
            f'      <span class="timeline-when">{_date(event["when"], "Y-m-d H:i", context)}</span>\n'
            f'      <span class="timeline-what"><strong>{v(event["who"])}</strong>\n'
            f'        <span class="kind kind-{kind}">{kind}</span> {v(event["text"])}\n'
            f"        {detail_html}</span>\n"
            "    </li>\n  "
        )
    return "".join(parts) or "\n    <li>Nothing yet.</li>\n  "
