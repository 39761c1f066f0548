"""Appeasements in the admin: list, change page with inlines and history, buttons through the services."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from appeasements.models import Appeasement, AppeasementState
from issues.models import ApprovalRequest
from orders.models import Refund
from tests.appeasements.conftest import BASE, body
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make(cc, user, order=None, amount="10.00", **kw) -> Appeasement:
    order = order or order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    r = cc(user).post(BASE, body(order, amount=amount, comments=[{"comment": "hello"}], **kw), format="json")
    assert r.status_code == 201, r.content
    return Appeasement.objects.get(appeasement_id=r.json()["id"])


def button_post(appeasement, name: str) -> dict:
    data = {"_fsm_transition_to": name}
    for prefix, rows in (("refunds", appeasement.refunds.count()), ("comments", appeasement.comments.count())):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": rows,
                f"{prefix}-INITIAL_FORMS": rows,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    return data


def test_changelist_with_filters_and_a_fixed_query_count(cc, agent, manager, django_assert_num_queries):
    make(cc, agent)
    client = logged_in(manager)
    url = reverse("admin:appeasements_appeasement_changelist")
    client.get(url)
    with django_assert_num_queries(6 + 1):  # + the sidebar's badges (desk.sidebar.sidebar_facts)
        assert client.get(url).status_code == 200
    for _ in range(29):
        make(cc, agent)
    with django_assert_num_queries(6 + 1):  # + the sidebar's badges (desk.sidebar.sidebar_facts)
        response = client.get(url)
    assert response.content.count(b'class="field-appeasement ') == 30  # django-unfold's cell: its classes follow
    assert response.content.count(b"10.00 USD") == 30  # each amount with its currency
    for query in ("state__exact=INCOMPLETE", "type__exact=order", "reason__id__exact=1", "q=emp_cs_001", "o=6"):
        assert client.get(f"{url}?{query}").status_code == 200, query


def test_change_page_shows_refunds_comments_and_history(cc, agent, manager):
    appeasement = make(cc, agent)
    client = logged_in(manager)
    page = client.get(reverse("admin:appeasements_appeasement_change", args=[appeasement.pk])).content.decode()
    assert appeasement.refunds.get().refund_id in page
    assert "hello" in page
    assert 'value="submit"' in page
    history = client.get(reverse("admin:appeasements_appeasement_history", args=[appeasement.pk]))
    assert history.status_code == 200
    assert b"Appeasement created" in history.content


def test_submit_button_goes_through_the_service(cc, agent, manager):
    appeasement = make(cc, agent)
    client = logged_in(manager)
    url = reverse("admin:appeasements_appeasement_change", args=[appeasement.pk])
    response = client.post(url, button_post(appeasement, "submit"))
    assert response.status_code == 302
    appeasement.refresh_from_db()
    assert appeasement.state == AppeasementState.SUBMITTED
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"Appeasement {appeasement.appeasement_id}: submitted."]  # its state's label, not SUBMITTED
    assert Refund.objects.filter(cause_id=appeasement.appeasement_id).count() == 1
    assert appeasement.history.latest().history_user == manager


DONE = {"approve": "approved", "reject": "rejected"}


def test_approve_and_reject_buttons_use_the_approval_queue(cc, agent, manager, other_manager):
    first = make(cc, agent, amount="30.00")
    second = make(cc, agent, amount="30.00")
    for appeasement in (first, second):
        assert cc(agent).post(f"{BASE}/submit", {"id": appeasement.appeasement_id}, format="json").status_code == 200
    client = logged_in(manager)
    page = client.get(reverse("admin:appeasements_appeasement_change", args=[first.pk])).content.decode()
    assert 'value="approve"' in page
    assert 'value="reject"' in page
    for appeasement, verb in ((first, "approve"), (second, "reject")):
        url = reverse(
            "admin:appeasements_appeasement_transition", kwargs={"object_id": appeasement.pk, "transition_name": verb}
        )
        response = client.post(url, {"note": f"{verb} it"})
        assert response.status_code == 302, response.content
        said = [str(m) for m in get_messages(response.wsgi_request)][-1]
        assert said == f"Appeasement {appeasement.appeasement_id}: {DONE[verb]}."  # "rejected", not "rejectd"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == AppeasementState.SUBMITTED
    assert second.state == AppeasementState.REJECTED
    assert second.decision_note == "reject it"
    states = dict(ApprovalRequest.objects.values_list("target_id", "state"))
    assert states == {first.appeasement_id: "approved", second.appeasement_id: "rejected"}


def test_agents_see_no_decision_buttons(cc, agent):
    appeasement = make(cc, agent, amount="30.00")
    cc(agent).post(f"{BASE}/submit", {"id": appeasement.appeasement_id}, format="json")
    page = logged_in(agent).get(reverse("admin:appeasements_appeasement_change", args=[appeasement.pk]))
    assert 'value="approve"' not in page.content.decode()


def test_the_requesting_manager_cannot_approve_in_the_admin(cc, manager):
    appeasement = make(cc, manager, amount="30.00")
    cc(manager).post(f"{BASE}/submit", {"id": appeasement.appeasement_id}, format="json")
    url = reverse(
        "admin:appeasements_appeasement_transition", kwargs={"object_id": appeasement.pk, "transition_name": "approve"}
    )
    logged_in(manager).post(url, {"note": "me"})
    appeasement.refresh_from_db()
    assert appeasement.state == AppeasementState.PENDING_APPROVAL


def test_order_and_issue_pages_show_their_appeasements(cc, agent, manager):
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    issue = issue_factory(order)
    appeasement = make(cc, agent, order=order, issueId=issue.issue_id)
    client = logged_in(manager)
    order_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert appeasement.appeasement_id in order_page
    issue_page = client.get(reverse("admin:issues_orderissue_change", args=[issue.pk])).content.decode()
    assert appeasement.appeasement_id in issue_page


def test_managed_lists_in_the_admin(manager):
    client = logged_in(manager)
    for name in ("appeasementreason", "refundtype"):
        page = client.get(reverse(f"admin:appeasements_{name}_changelist"))
        assert page.status_code == 200
    assert b"itemArrivedDamaged" in client.get(reverse("admin:appeasements_appeasementreason_changelist")).content
