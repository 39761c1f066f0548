"""The rules checked on create, update and submit, each with its seed-004 error code."""

from decimal import Decimal

import pytest

from appeasements.models import Appeasement, AppeasementRefund, AppeasementState
from orders.models import Payment, Refund, RefundCause, RefundLimit, RefundSource
from orders.services import refund_record
from tests.appeasements.conftest import BASE, assert_cc_error, body
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


def draft(client, order, **kw) -> dict:
    r = client.post(BASE, body(order, **kw), format="json")
    assert r.status_code == 201, r.content
    return r.json()


def submit(client, appeasement_id):
    return client.post(f"{BASE}/submit", {"id": appeasement_id}, format="json")


# --------------------------------------------------------------------------- the order


def test_unknown_order_is_invalid_input(cc, agent):
    assert_cc_error(
        cc(agent).post(BASE, {"orderId": "0000-0000-00000", "reason": "incorrectItem"}, format="json"),
        400,
        "13001",
        "orderId",
    )


@pytest.mark.parametrize("status", ["pending", "canceled"])
def test_pending_or_canceled_orders_cannot_be_appeased(cc, agent, status):
    order = order_with_items(items=1, status=status)
    data = assert_cc_error(cc(agent).post(BASE, body(order, amount="1.00"), format="json"), 409, "900036", "orderId")
    assert data["currentState"] == status


@pytest.mark.parametrize("status", ["accepted", "in_progress", "completed", "partially_returned", "returned"])
def test_other_order_states_can_be_appeased(cc, agent, status):
    order = order_with_items(items=1, status=status)
    assert cc(agent).post(BASE, body(order, amount="1.00"), format="json").status_code == 201


def test_an_order_canceled_after_drafting_cannot_be_submitted(cc, agent, order):
    created = draft(cc(agent), order)
    type(order).objects.filter(pk=order.pk).update(status="canceled")
    assert_cc_error(submit(cc(agent), created["id"]), 409, "900036", "orderId")
    assert_cc_error(cc(agent).put(f"{BASE}/{created['id']}", {"notes": "x"}, format="json"), 409, "900036")


def test_currency_must_be_the_orders(cc, agent, order):
    bad = body(order)
    bad["appeasementRefunds"][0]["currencyCode"] = "EUR"
    assert_cc_error(cc(agent).post(BASE, bad, format="json"), 400, "13001", "appeasementRefunds[0].currencyCode")
    created = draft(cc(agent), order)
    assert_cc_error(
        cc(agent).put(
            f"{BASE}/{created['id']}",
            {"appeasementRefunds": [{"refundType": "storeCredit", "amount": 1.00, "currencyCode": "GBP"}]},
            format="json",
        ),
        400,
        "13001",
        "appeasementRefunds[0].currencyCode",
    )
    omitted = body(order)
    del omitted["appeasementRefunds"][0]["currencyCode"]
    assert cc(agent).post(BASE, omitted, format="json").json()["appeasementRefunds"][0]["currencyCode"] == "USD"


# --------------------------------------------------------------------------- refund types and payment groups


def test_unknown_refund_type_is_900017(cc, agent, order):
    data = assert_cc_error(
        cc(agent).post(BASE, body(order, refund_type="cash"), format="json"),
        400,
        "900017",
        "appeasementRefunds[0].refundType",
    )
    assert "cash" in data["message"]
    created = draft(cc(agent), order)
    assert_cc_error(
        cc(agent).put(
            f"{BASE}/{created['id']}",
            {"appeasementRefunds": [{"refundType": "giftCard", "amount": 1.00}]},
            format="json",
        ),
        400,
        "900017",
    )
    from appeasements.models import RefundType

    RefundType.objects.filter(code="storeCredit").update(active=False)  # a deactivated type is unknown
    assert_cc_error(cc(agent).post(BASE, body(order, refund_type="storeCredit"), format="json"), 400, "900017")


def test_credit_card_needs_a_payment_group_of_the_order(cc, agent, order, payment, django_capture_on_commit_callbacks):
    assert_cc_error(
        cc(agent).post(BASE, body(order, refund_type="creditCard"), format="json"),
        400,
        "13001",
        "appeasementRefunds[0].paymentGroupId",
    )
    other = order_with_items(items=1, status="completed")
    foreign = body(order, refund_type="creditCard")
    foreign["appeasementRefunds"][0]["paymentGroupId"] = other.payments.get().payment_group_id
    assert_cc_error(cc(agent).post(BASE, foreign, format="json"), 400, "13001", "appeasementRefunds[0].paymentGroupId")
    good = body(order, refund_type="creditCard")
    good["appeasementRefunds"][0]["paymentGroupId"] = payment.payment_group_id
    with django_capture_on_commit_callbacks(execute=True):
        r = cc(agent).post(f"{BASE}/submit", good, format="json")
    assert r.status_code == 201, r.content
    ledger = Refund.objects.get(cause_type=RefundCause.APPEASEMENT, cause_id=r.json()["id"])
    assert ledger.payment == payment
    assert ledger.source == RefundSource.MERCHANT


def test_refund_types_map_to_ledger_sources(cc, agent, order):
    r = cc(agent).post(f"{BASE}/submit", body(order, amount="2.00", refund_type="storeCredit"), format="json")
    assert Refund.objects.get(cause_id=r.json()["id"]).source == RefundSource.STORE_CREDIT
    r = cc(agent).post(f"{BASE}/submit", body(order, amount="2.00", refund_type="externalRefund"), format="json")
    assert Refund.objects.get(cause_id=r.json()["id"]).source == RefundSource.PLATFORM


# --------------------------------------------------------------------------- amounts and the ledger


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00"])
def test_amounts_must_be_positive(cc, agent, order, amount):
    assert_cc_error(
        cc(agent).post(BASE, body(order, amount=amount), format="json"), 400, "13001", "appeasementRefunds[0].amount"
    )


def test_more_than_two_decimals_is_invalid(cc, agent, order):
    assert_cc_error(
        cc(agent).post(BASE, body(order, amount="1.005"), format="json"), 400, "13001", "appeasementRefunds[0].amount"
    )


def test_total_never_passes_what_was_paid(cc, agent, order, settings):
    settings.APPEASEMENT_POLICY_SHARE = 1
    data = assert_cc_error(
        cc(agent).post(BASE, body(order, amount="100.01"), format="json"), 400, "13001", "appeasementRefunds"
    )
    assert data["refundableAmount"] == 100
    two = body(order, amount="60.00")
    two["appeasementRefunds"].append({"refundType": "storeCredit", "amount": 40.01})
    assert_cc_error(cc(agent).post(BASE, two, format="json"), 400, "13001", "appeasementRefunds")
    assert cc(agent).post(f"{BASE}/submit", body(order, amount="100.00"), format="json").status_code == 201


def test_ledger_limit_is_shared_with_issue_refunds(cc, agent, order, settings):
    """An issue refund and an appeasement on one order cannot together pass the paid amount."""
    settings.APPEASEMENT_POLICY_SHARE = 1
    created = draft(cc(agent), order, amount="50.00")
    # meanwhile an issue refund takes 60.00 of the 100.00 paid
    refund_record(
        order=order,
        actor=agent,
        amount=Decimal("60.00"),
        source=RefundSource.MERCHANT,
        cause_type=RefundCause.ISSUE,
        cause_id="issue_x",
    )
    data = assert_cc_error(submit(cc(agent), created["id"]), 400, "13001", "appeasementRefunds")
    assert data["refundableAmount"] == 40
    assert Appeasement.objects.get(appeasement_id=created["id"]).state == AppeasementState.INCOMPLETE
    assert not Refund.objects.filter(cause_type=RefundCause.APPEASEMENT).exists()
    # and the other way round: after a 40.00 appeasement the issue refund finds nothing left
    cc(agent).put(
        f"{BASE}/{created['id']}",
        {"appeasementRefunds": [{"refundType": "storeCredit", "amount": 40.00}]},
        format="json",
    )
    assert submit(cc(agent), created["id"]).status_code == 200
    from orders.errors import RefundProcessingError

    with pytest.raises(RefundProcessingError):
        refund_record(order=order, actor=agent, amount=Decimal("0.01"), source=RefundSource.MERCHANT)


def test_a_failed_ledger_refund_marks_the_appeasement_refund_failed(
    cc, agent, order, settings, django_capture_on_commit_callbacks
):
    settings.SIMULATED_REFUND_FAILURE_RATE = 1.0
    created = draft(cc(agent), order)
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(cc(agent), created["id"]).status_code == 200
    assert cc(agent).get(f"{BASE}/{created['id']}").json()["appeasementRefunds"][0]["state"] == "FAILED"
    assert AppeasementRefund.objects.get(appeasement__appeasement_id=created["id"]).state == "FAILED"


def test_refund_processing_happens_after_commit_only(cc, agent, order, django_capture_on_commit_callbacks):
    created = draft(cc(agent), order)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = submit(cc(agent), created["id"])
    assert r.json()["appeasementRefunds"][0]["state"] == "INCOMPLETE"  # not processed inside the transaction
    assert len(callbacks) >= 2  # the ledger's processing, then our state sync


# --------------------------------------------------------------------------- who


def test_agent_id_must_be_the_caller(cc, agent, other_agent, order):
    data = assert_cc_error(cc(agent).post(BASE, body(order, agentId="emp_cs_002"), format="json"), 403, "403")
    assert "agentId" in data["message"]
    assert cc(agent).post(BASE, body(order, agentId="emp_cs_001"), format="json").status_code == 201
    created = draft(cc(agent), order)
    assert_cc_error(cc(agent).put(f"{BASE}/{created['id']}", {"agentId": "emp_cs_002"}, format="json"), 403, "403")
    assert_cc_error(
        cc(agent).post(f"{BASE}/submit", {"id": created["id"], "agentId": "emp_cs_002"}, format="json"), 403, "403"
    )
    assert_cc_error(
        cc(agent).put(
            f"{BASE}/{created['id']}", {"comments": [{"agentId": "emp_cs_002", "comment": "x"}]}, format="json"
        ),
        403,
        "403",
    )
    assert_cc_error(cc(agent).post(BASE, body(order, agentId="ghost"), format="json"), 400, "13001", "agentId")


def test_a_service_account_acts_for_a_named_agent(cc, service, agent, order):
    r = cc(service).post(BASE, body(order, agentId="emp_cs_001"), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["agentId"] == "emp_cs_001"
    assert r.json()["originOfAppeasement"] == "external"
    appeasement = Appeasement.objects.get(appeasement_id=r.json()["id"])
    assert appeasement.agent == agent
    assert appeasement.history.latest().history_user == agent


def test_reason_must_be_a_known_code(cc, agent, order):
    assert_cc_error(cc(agent).post(BASE, body(order, reason="whatever"), format="json"), 400, "13001", "reason")


def test_profile_must_be_the_orders_customer(cc, agent, order):
    assert_cc_error(
        cc(agent).post(BASE, body(order, profileId="someone-else"), format="json"), 400, "13001", "profileId"
    )
    assert cc(agent).post(BASE, body(order, profileId=order.customer_id), format="json").status_code == 201


def test_issue_link_must_be_an_issue_of_the_order(cc, agent, order):
    from tests.factories import issue_factory

    issue = issue_factory(order)
    other_issue = issue_factory()
    r = cc(agent).post(BASE, body(order, issueId=issue.issue_id), format="json")
    assert r.status_code == 201
    assert r.json()["issueId"] == issue.issue_id
    assert_cc_error(
        cc(agent).post(BASE, body(order, issueId=other_issue.issue_id), format="json"), 400, "13001", "issueId"
    )


# --------------------------------------------------------------------------- policy


def test_over_the_policy_share_goes_to_pending_approval(cc, agent, manager, order):
    created = draft(cc(agent), order, amount="20.01")  # 20% of 100.00 is 20.00
    r = submit(cc(agent), created["id"])
    assert r.status_code == 200
    assert r.json()["state"] == "PENDING_APPROVAL"
    assert r.json()["submittedDate"] is None
    assert not Refund.objects.filter(cause_type=RefundCause.APPEASEMENT).exists()
    from issues.models import ApprovalRequest

    approval = ApprovalRequest.objects.get(target_type="appeasement", target_id=created["id"])
    assert approval.kind == "appeasement"
    assert approval.state == "pending"
    assert approval.requested_by == agent
    assert "20.01" in approval.reason
    # frozen while pending
    assert_cc_error(
        cc(agent).put(
            f"{BASE}/{created['id']}",
            {"appeasementRefunds": [{"refundType": "storeCredit", "amount": 5.00}]},
            format="json",
        ),
        409,
        "900036",
    )
    assert_cc_error(cc(agent).delete(f"{BASE}/{created['id']}"), 409, "900036")


def test_exactly_the_policy_share_is_within_policy(cc, agent, order, settings):
    created = draft(cc(agent), order, amount="20.00")
    assert submit(cc(agent), created["id"]).json()["state"] == "SUBMITTED"
    settings.APPEASEMENT_POLICY_SHARE = 0.5
    created = draft(cc(agent), order, amount="45.00")
    assert submit(cc(agent), created["id"]).json()["state"] == "SUBMITTED"


def test_over_the_agents_own_limit_goes_to_pending_approval(cc, agent, other_agent, order):
    RefundLimit.objects.create(employee=agent, limit=Decimal("5.00"))
    mine = draft(cc(agent), order, amount="5.01")
    assert submit(cc(agent), mine["id"]).json()["state"] == "PENDING_APPROVAL"
    theirs = draft(cc(other_agent), order, amount="5.01")  # no limit of their own
    assert submit(cc(other_agent), theirs["id"]).json()["state"] == "SUBMITTED"


# --------------------------------------------------------------------------- the validation webhook


def test_hook_valid_lets_the_submit_through_and_receives_the_context(cc, agent, order, hook):
    earlier = draft(cc(agent), order, amount="1.00")
    created = draft(cc(agent), order, amount="2.00")
    r = submit(cc(agent), created["id"])
    assert r.status_code == 200
    assert r.json()["state"] == "SUBMITTED"
    (sent,) = hook.received
    assert sent["appeasement"]["id"] == created["id"]
    assert sent["appeasement"]["appeasementRefunds"][0]["amount"] == 2
    assert sent["order"]["orderId"] == order.order_id
    assert sent["order"]["paidAmount"] == 100
    assert [p["id"] for p in sent["previousAppeasements"]] == [earlier["id"]]


def test_hook_invalid_is_900016_with_the_reason(cc, agent, order, hook):
    hook.reply = {"valid": False, "reason": "Customer already appeased twice this month"}
    created = draft(cc(agent), order)
    data = assert_cc_error(submit(cc(agent), created["id"]), 400, "900016")
    assert "Customer already appeased twice this month" in data["message"]
    assert data["reason"] == "Customer already appeased twice this month"
    assert Appeasement.objects.get(appeasement_id=created["id"]).state == AppeasementState.INCOMPLETE
    assert not Refund.objects.exists()
    # a PUT that submits is refused as a whole: its other changes are not kept either
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"notes": "new", "state": "SUBMITTED"}, format="json"), 400, "900016"
    )
    assert Appeasement.objects.get(appeasement_id=created["id"]).notes == ""


@pytest.mark.parametrize(
    ("status", "reply"),
    [(500, {"error": "boom"}), (200, b"not json"), (200, {"ok": True}), (404, b"")],
)
def test_hook_errors_are_900015(cc, agent, order, hook, status, reply):
    hook.status, hook.reply = status, reply
    created = draft(cc(agent), order)
    assert_cc_error(submit(cc(agent), created["id"]), 502, "900015")
    assert Appeasement.objects.get(appeasement_id=created["id"]).state == AppeasementState.INCOMPLETE


def test_hook_without_an_answer_is_900015(cc, agent, order, hook, settings):
    hook.delay, settings.APPEASEMENT_VALIDATION_TIMEOUT = 1.0, 0.2
    created = draft(cc(agent), order)
    assert_cc_error(submit(cc(agent), created["id"]), 502, "900015")


def test_hook_unreachable_is_900015(cc, agent, order, settings):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.APPEASEMENT_VALIDATION_URL = f"http://127.0.0.1:{port}/hook"
    created = draft(cc(agent), order)
    assert_cc_error(submit(cc(agent), created["id"]), 502, "900015")


def test_hook_is_not_called_for_drafts(cc, agent, order, hook):
    draft(cc(agent), order)
    assert hook.received == []


def test_payment_of_another_order_cannot_be_named_by_the_service(cc, agent, order):
    # a payment group id that exists on another order only
    other = order_with_items(items=1, status="completed")
    Payment.objects.filter(order=other).update(payment_group_id="pg-shared")
    bad = body(order, refund_type="externalRefund")
    bad["appeasementRefunds"][0]["paymentGroupId"] = "pg-shared"
    assert_cc_error(cc(agent).post(BASE, bad, format="json"), 400, "13001", "appeasementRefunds[0].paymentGroupId")


def test_managers_can_draft_appeasements_too(manager, cc, order):
    assert cc(manager).post(BASE, body(order), format="json").json()["agentId"] == "emp_mgr_001"
