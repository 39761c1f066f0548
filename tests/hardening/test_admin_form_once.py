"""The admin's money forms (order refund, issue refund, return) record the money once per form.

Each form carries a one-time ``form_key`` rendered with it. Sent twice with the same values (a double click,
the browser's resend, Back and submit again) it writes once and the second answer points at the first;
the same key with other values, or no key, is refused and writes nothing; a refusal by the service leaves
the key free, so the corrected form can be sent again.
"""

import re
import time
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from config.models import IdempotencyKey
from orders.models import Refund
from returns.models import Return, ReturnReason
from tests.concurrency import run_concurrently
from tests.factories import employee, issue_factory, order_with_items
from tests.hardening.audit_helpers import Audit


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _order_refund(agent):
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    url = reverse("admin:orders_order_refund", args=[order.pk])
    good = {"amount": "5.00", "source": "merchant", "reason": "Goodwill"}
    return order, url, good, {**good, "amount": "6.00"}, {**good, "amount": "500.00"}


def _issue_refund(agent):
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    issue = issue_factory(order, actor=agent, assigned_to=agent, status="in_progress")
    url = reverse("admin:issues_orderissue_refund", args=[issue.pk])
    good = {"amount": "5.00", "source": "merchant", "notes": "Partial refund"}
    return order, url, good, {**good, "amount": "6.00"}, {**good, "amount": "500.00"}


def _return(agent):
    order = order_with_items(items=2, quantity=2, unit_price=Decimal("20.00"), status="completed")
    first, second = order.items.order_by("line_number")
    url = reverse("admin:returns_return_record", args=[order.pk])
    good = {"reason": ReturnReason.objects.get(code="2001").pk, "message": "Broken", "refund": "on"}
    return (
        order,
        url,
        {**good, f"qty_{first.pk}": "1"},
        {**good, f"qty_{second.pk}": "1"},
        {**good, f"qty_{first.pk}": "1", "reason": ReturnReason.objects.get(code="2001").pk + 10_000},  # form error
    )


FORMS = {"order refund": _order_refund, "issue refund": _issue_refund, "return": _return}


def money(order) -> tuple[int, int]:
    return Refund.objects.filter(order=order).count(), Return.objects.filter(order=order).count()


def rendered_key(client, url) -> str:
    page = client.get(url).content.decode()
    match = re.search(r'<input type="hidden" name="form_key" value="([0-9a-f]{32})"', page)
    assert match, "the form renders its one-time key"
    return match.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_a_form_sent_twice_records_the_money_once(form):
    # given
    agent = employee("emp_cs_001", "agent")
    order, url, data, _other, _refused = FORMS[form](agent)
    client = logged_in(agent)
    key = rendered_key(client, url)
    assert rendered_key(client, url) != key, "every rendering gets a fresh key"
    # when
    first = client.post(url, {**data, "form_key": key})
    audit = Audit()
    second = client.post(url, {**data, "form_key": key})
    # then
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert money(order) in ((1, 0), (1, 1))
    audit.assert_nothing("the resend")
    warnings = [m.message for m in get_messages(second.wsgi_request)]
    assert any("sent twice and nothing more was done" in m for m in warnings), warnings


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_the_same_key_with_other_values_is_refused(form):
    agent = employee("emp_cs_001", "agent")
    order, url, data, other, _refused = FORMS[form](agent)
    client = logged_in(agent)
    assert client.post(url, {**data, "form_key": "k1"}).status_code == 302
    before = money(order)
    audit = Audit()

    response = client.post(url, {**other, "form_key": "k1"})

    assert response.status_code == 200
    assert "already sent with other values" in response.content.decode()
    assert money(order) == before
    audit.assert_nothing(form)


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_a_form_without_its_key_is_refused(form):
    agent = employee("emp_cs_001", "agent")
    order, url, data, _other, _refused = FORMS[form](agent)
    audit = Audit()

    response = logged_in(agent).post(url, data)

    assert response.status_code == 200
    assert "This form has no key: reload the page" in response.content.decode()
    assert money(order) == (0, 0)
    audit.assert_nothing(form)
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_a_refused_form_leaves_its_key_free_for_the_corrected_one(form):
    agent = employee("emp_cs_001", "agent")
    order, url, data, _other, refused = FORMS[form](agent)
    client = logged_in(agent)

    bad = client.post(url, {**refused, "form_key": "k1"})
    assert bad.status_code == 200
    assert money(order) == (0, 0)
    assert not IdempotencyKey.objects.exists()

    good = client.post(url, {**data, "form_key": "k1"})
    assert good.status_code == 302
    assert money(order)[0] == 1


@pytest.mark.django_db
def test_keys_are_per_employee():
    agent, other = employee("emp_cs_001", "agent"), employee("emp_cs_002", "agent")
    order, url, data, _other, _refused = _order_refund(agent)
    assert logged_in(agent).post(url, {**data, "form_key": "k1"}).status_code == 302
    assert logged_in(other).post(url, {**data, "form_key": "k1"}).status_code == 302
    assert money(order) == (2, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_form_record_once(monkeypatch):
    from django.apps import apps

    from config.permissions import sync_groups
    from issues import refund_requests

    sync_groups(apps)  # a transactional test flushed the groups' permissions
    agent = employee("emp_cs_001", "agent")
    order, url, data, _other, _refused = _order_refund(agent)
    real = refund_requests.refund_or_request  # what the order's refund form calls (the refund, or a request)
    calls = []

    def slow_refund(**kwargs):
        calls.append(1)
        time.sleep(0.3)  # the first send holds the key row while the others arrive
        return real(**kwargs)

    monkeypatch.setattr(refund_requests, "refund_or_request", slow_refund)
    clients = [logged_in(agent) for _ in range(4)]

    answers = run_concurrently(*(lambda c=c: c.post(url, {**data, "form_key": "same"}) for c in clients))

    assert len(calls) == 1
    assert Refund.objects.filter(order=order).count() == 1
    assert {(r.status_code, r["Location"]) for r in answers} == {(302, answers[0]["Location"])}
