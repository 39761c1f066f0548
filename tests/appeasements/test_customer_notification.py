"""A submitted appeasement tells the customer by e-mail, through the notification mechanism, after commit."""

import pytest
from django.core import mail

from issues.models import Notification
from tests.appeasements.conftest import BASE, body

pytestmark = pytest.mark.django_db


def test_customer_is_emailed_after_commit_when_submitted(cc, agent, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = cc(agent).post(f"{BASE}/submit", body(order, amount="3.00", refund_type="storeCredit"), format="json")
    assert r.status_code == 201
    row = Notification.objects.get(kind="customer_appeasement")
    assert row.recipient is None
    assert row.recipient_email == order.customer_email
    assert "3.00 USD" in row.message
    assert mail.outbox == []  # nothing sent before commit
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox if "Goodwill" in m.subject] == [[order.customer_email]]
    row.refresh_from_db()
    assert row.emailed_at is not None


def test_draft_appeasement_tells_the_customer_nothing(cc, agent, order):
    assert cc(agent).post(BASE, body(order), format="json").status_code == 201
    assert not Notification.objects.filter(kind="customer_appeasement").exists()
