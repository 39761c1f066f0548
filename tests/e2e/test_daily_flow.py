"""The agent's and the manager's day, in a real browser (issue 7).

An agent finds an order by e-mail, opens its issue, moves it to investigating with a note, refunds part of
it and asks for an escalation; a manager approves it from the inbox; the agent sees the escalated issue and
its timeline. Every step leaves a screenshot in test-results/e2e/<test>/.
"""

import re
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from config.permissions import sync_groups
from issues.models import ApprovalRequest, OrderIssue
from orders.models import Refund
from tests.factories import employee, issue_factory, order_with_items

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()  # a fresh session for the next person
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pass-{username}")
    page.click("form [type=submit]")  # django-unfold's login button is a <button>, not an <input>
    page.wait_for_selector("#daily")


def test_agent_and_manager_daily_flow(live_server, page, shots):
    # given: an agent, a manager, and a customer's paid order with an open issue assigned to the agent.
    # (An earlier transactional test flushes the tables, groups included: grant them again, as the migrations do.)
    sync_groups(django_apps)
    agent, manager = employee("emp_cs_001", "agent"), employee("emp_mgr_001", "manager")
    order = order_with_items(items=2, unit_price=Decimal("20.00"), customer_email="dana.lee@example.com")
    issue = issue_factory(order, assigned_to=agent, title="Blender arrived cracked", issue_type="damaged_item")
    base = live_server.url

    # the agent logs in and finds the order by the customer's e-mail (index -> search: the one match opens)
    log_in(page, base, agent.username)
    assert page.locator("#link-my-open strong").inner_text() == "1"
    shots(page, "01-agent-index")
    page.fill("#order-q", "dana.lee@example.com")
    page.click("#order-search input[type=submit]")
    page.wait_for_url(f"**/admin/orders/order/{order.pk}/change/")
    page.wait_for_selector(f"text={issue.issue_id}")
    shots(page, "02-order-page")

    # opens its issue and moves it to investigating with a note
    page.click(f"a:has-text('{issue.issue_id}')")
    page.click("button[name=_fsm_transition_to][value=investigate]")
    page.fill("textarea[name=notes]", "Asked the warehouse for the packing photos.")
    shots(page, "03-investigate-form")
    page.click("#content [type=submit]")
    page.wait_for_selector("text=is now investigating")
    shots(page, "04-investigating")

    # refunds part of it through the form that shows what is refundable
    page.click("text=Refund through the ledger")
    assert page.locator("#refundable").inner_text() == "40.00 USD"
    page.fill("#id_amount", "15.00")
    page.select_option("#id_source", "merchant")
    page.fill("#id_notes", "Partial refund for the cracked jug.")
    shots(page, "05-refund-form")
    page.click("input[type=submit][value=Refund]")
    page.wait_for_selector("text=of 15.00 USD recorded")
    shots(page, "06-refunded")

    # asks for an escalation: it waits for a manager
    page.click("button[name=_fsm_transition_to][value=escalate]")
    page.fill("textarea[name=notes]", "Customer wants a replacement and a goodwill credit.")
    page.click("#content [type=submit]")
    page.wait_for_selector("text=waits for a manager's approval")
    page.wait_for_selector("#pending-approvals")
    shots(page, "07-escalation-requested")

    # the manager sees it in the inbox (count on the index) and approves it with a note
    log_in(page, base, manager.username)
    assert page.locator("#link-approvals strong").inner_text() == "1"
    shots(page, "08-manager-index")
    page.click("#link-approvals")
    approval = ApprovalRequest.objects.get(issue=issue)
    page.click(f"a:has-text('{approval.approval_id}')")
    page.click("button[name=_fsm_transition_to][value=approve]")
    page.fill("textarea[name=note]", "Approved: send a replacement.")
    shots(page, "09-approve-form")
    page.click("#content [type=submit]")
    page.wait_for_selector("text=approved")
    shots(page, "10-approved")

    # the agent sees the escalated status and the whole story on the timeline
    log_in(page, base, agent.username)
    page.goto(f"{base}/admin/issues/orderissue/?mine=open")
    page.click(f"a:has-text('{issue.issue_id}')")
    page.wait_for_selector("#timeline")
    assert "Escalated" in page.locator("#issue-status").inner_text()  # was Django's .field-status cell
    timeline = page.locator("#timeline").inner_text()
    plain = (
        "moved it from Open to Investigating",
        "Refund of 15.00 USD",
        "Escalation requested",
        "Escalation approved",
    )
    for text in plain:  # plain sentences (issue 23), not "Status open → investigating"
        assert text in timeline, text
    assert re.search(r"emp_mgr_001\s+decision\s+Escalation approved", timeline, re.IGNORECASE), timeline
    shots(page, "11-agent-sees-escalated-timeline")

    # and the database agrees
    issue = OrderIssue.objects.get(pk=issue.pk)
    assert issue.status == "escalated"
    assert Refund.objects.get(cause_id=issue.issue_id).amount == Decimal("15.00")
    assert ApprovalRequest.objects.get(pk=approval.pk).state == "approved"
