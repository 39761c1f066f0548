"""The /ccagent/v1/appeasements family: create, read, list, PUT rules, delete, initiate, submit, auth, errors."""

from decimal import Decimal

import pytest

from appeasements.models import Appeasement, AppeasementComment, AppeasementRefund, AppeasementState
from orders.models import Refund, RefundCause
from tests.appeasements.conftest import BASE, assert_cc_error, body
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


def create(client, order, **kw) -> dict:
    r = client.post(BASE, body(order, **kw), format="json")
    assert r.status_code == 201, r.content
    return r.json()


# --------------------------------------------------------------------------- create / read


def test_create_answers_an_incomplete_appeasement(cc, agent, order):
    r = cc(agent).post(
        BASE,
        body(order, notes="Sorry", comments=[{"comment": "Customer called"}], type="shipping"),
        format="json",
    )
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["id"].startswith("app")
    assert data["state"] == "INCOMPLETE"
    assert data["agentId"] == "emp_cs_001"
    assert data["originOfAppeasement"] == "agent"
    assert data["profileId"] == order.customer_id
    assert data["type"] == "shipping"
    assert data["notes"] == "Sorry"
    assert data["submittedDate"] is None
    assert data["creationDate"].endswith("Z")
    (refund,) = data["appeasementRefunds"]
    assert refund["id"].startswith("ar")
    assert refund["state"] == "INCOMPLETE"
    assert refund["type"] == "externalRefund"
    assert refund["amount"] == 10
    assert refund["currencyCode"] == "USD"
    (comment,) = data["comments"]
    assert isinstance(comment["id"], int)
    assert comment["agentId"] == "emp_cs_001"
    assert Refund.objects.count() == 0  # nothing moves before submission


def test_get_one_and_unknown_id(cc, agent, order):
    created = create(cc(agent), order)
    r = cc(agent).get(f"{BASE}/{created['id']}")
    assert r.status_code == 200
    assert r.json() == created
    assert_cc_error(cc(agent).get(f"{BASE}/app_nope"), 404, "900002")
    assert_cc_error(cc(agent).put(f"{BASE}/app_nope", {"notes": "x"}, format="json"), 404, "900002")
    assert_cc_error(cc(agent).delete(f"{BASE}/app_nope"), 404, "900002")
    assert_cc_error(cc(agent).post(f"{BASE}/submit", {"id": "app_nope"}, format="json"), 404, "900002")


def test_list_filters_and_pages(cc, agent, order):
    other = order_with_items(items=1, status="completed")
    a1 = create(cc(agent), order)
    a2 = create(cc(agent), order, amount="5.00")
    a3 = create(cc(agent), other, amount="1.00")
    cc(agent).put(f"{BASE}/{a2['id']}", {"state": "SUBMITTED"}, format="json")

    everything = cc(agent).get(BASE).json()
    assert everything["totalResults"] == 3
    assert [i["id"] for i in everything["items"]] == [a3["id"], a2["id"], a1["id"]]
    by_order = cc(agent).get(BASE, {"orderId": order.order_id}).json()
    assert {i["id"] for i in by_order["items"]} == {a1["id"], a2["id"]}
    by_profile = cc(agent).get(BASE, {"profileId": other.customer_id}).json()
    assert [i["id"] for i in by_profile["items"]] == [a3["id"]]
    submitted = cc(agent).get(BASE, {"state": "SUBMITTED"}).json()
    assert [i["id"] for i in submitted["items"]] == [a2["id"]]
    page = cc(agent).get(BASE, {"limit": 1, "offset": 1}).json()
    assert page["totalResults"] == 3
    assert page["limit"] == 1
    assert page["offset"] == 1
    assert [i["id"] for i in page["items"]] == [a2["id"]]
    assert_cc_error(cc(agent).get(BASE, {"state": "DONE"}), 400, "13001", "state")
    assert_cc_error(cc(agent).get(BASE, {"limit": "x"}), 400, "13001", "limit")
    assert_cc_error(cc(agent).get(BASE, {"limit": 0}), 400, "13001", "limit")


def _count(client, django_assert_max_num_queries, url, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_detail_queries_are_bounded(cc, agent, order, django_assert_max_num_queries):
    client = cc(agent)
    first = create(client, order, amount="1.00", comments=[{"comment": "one"}])
    one = _count(client, django_assert_max_num_queries, BASE)
    detail = _count(client, django_assert_max_num_queries, f"{BASE}/{first['id']}")
    for n in range(29):
        create(client, order_with_items(items=1, status="completed"), amount="1.00", comments=[{"comment": f"c{n}"}])
    assert _count(client, django_assert_max_num_queries, BASE, {"limit": 50}) == one
    assert _count(client, django_assert_max_num_queries, f"{BASE}/{first['id']}") == detail
    assert one <= 9
    assert detail <= 8


# --------------------------------------------------------------------------- PUT


def test_put_refund_replacement_rule(cc, agent, order):
    created = create(cc(agent), order)
    second = (
        cc(agent)
        .put(
            f"{BASE}/{created['id']}",
            {
                "appeasementRefunds": [
                    created["appeasementRefunds"][0],
                    {"refundType": "storeCredit", "amount": 4.00, "currencyCode": "USD"},
                ]
            },
            format="json",
        )
        .json()
    )
    kept, added = second["appeasementRefunds"]
    assert kept["id"] == created["appeasementRefunds"][0]["id"]
    assert added["id"] not in (kept["id"], None)
    # with an id: updated; without: created; missing: removed
    r = cc(agent).put(
        f"{BASE}/{created['id']}",
        {
            "appeasementRefunds": [
                {"id": added["id"], "refundType": "storeCredit", "amount": 6.50, "currencyCode": "USD"},
                {"refundType": "externalRefund", "amount": 2.00},
            ]
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    refunds = r.json()["appeasementRefunds"]
    assert [x["id"] for x in refunds][0] == added["id"]
    assert refunds[0]["amount"] == 6.5
    assert refunds[1]["id"] not in (kept["id"], added["id"])
    assert not AppeasementRefund.objects.filter(refund_id=kept["id"]).exists()
    assert AppeasementRefund.history.filter(refund_id=kept["id"], history_type="-").exists()  # removal is history
    # refunds not given at all are left alone
    r = cc(agent).put(f"{BASE}/{created['id']}", {"notes": "only notes"}, format="json")
    assert [x["id"] for x in r.json()["appeasementRefunds"]] == [x["id"] for x in refunds]
    # an id that is not one of this appeasement's refunds, or listed twice
    assert_cc_error(
        cc(agent).put(
            f"{BASE}/{created['id']}",
            {"appeasementRefunds": [{"id": "ar_other", "refundType": "storeCredit", "amount": 1.00}]},
            format="json",
        ),
        400,
        "13001",
        "appeasementRefunds[0].id",
    )
    twice = {"id": added["id"], "refundType": "storeCredit", "amount": 1.00}
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"appeasementRefunds": [twice, twice]}, format="json"),
        400,
        "13001",
        "appeasementRefunds[1].id",
    )


def test_put_comments_are_append_only(cc, agent, order):
    created = create(cc(agent), order, comments=[{"comment": "first"}])
    first = created["comments"][0]
    r = cc(agent).put(f"{BASE}/{created['id']}", {"comments": [first, {"comment": "second"}]}, format="json")
    assert [c["comment"] for c in r.json()["comments"]] == ["first", "second"]
    # an empty list deletes nothing
    r = cc(agent).put(f"{BASE}/{created['id']}", {"comments": []}, format="json")
    assert len(r.json()["comments"]) == 2
    # an id must match an existing comment, unchanged
    changed = {**first, "comment": "rewritten"}
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"comments": [changed]}, format="json"), 400, "13001", "comments[0].id"
    )
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"comments": [{"id": 42, "comment": "x"}]}, format="json"),
        400,
        "13001",
        "comments[0].id",
    )
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"comments": [{"comment": "  "}]}, format="json"),
        400,
        "13001",
        "comments[0].comment",
    )
    assert AppeasementComment.objects.get(comment_id=first["id"]).comment == "first"


def test_put_state_submitted_submits_then_only_notes_and_new_comments(
    cc, agent, order, django_capture_on_commit_callbacks
):
    created = create(cc(agent), order)
    with django_capture_on_commit_callbacks(execute=True):
        r = cc(agent).put(f"{BASE}/{created['id']}", {"state": "SUBMITTED"}, format="json")
    assert r.status_code == 200
    assert r.json()["state"] == "SUBMITTED"
    assert r.json()["submittedDate"]
    url = f"{BASE}/{created['id']}"
    refund = {**created["appeasementRefunds"][0]}
    # frozen: amounts, refunds, reason, order, type
    for change, field in (
        ({"appeasementRefunds": [{**refund, "amount": 11.00}]}, "appeasementRefunds"),
        ({"appeasementRefunds": []}, "appeasementRefunds"),
        ({"reason": "itemArrivedDamaged"}, "reason"),
        ({"type": "shipping"}, "type"),
        ({"state": "INCOMPLETE"}, "state"),
    ):
        assert_cc_error(cc(agent).put(url, change, format="json"), 409, "900036", field)
    # accepted: notes, new comments, the same values again
    r = cc(agent).put(
        url,
        {"notes": "Paid", "comments": [{"comment": "done"}], "appeasementRefunds": [refund], "state": "SUBMITTED"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["notes"] == "Paid"
    assert r.json()["comments"][-1]["comment"] == "done"
    assert Refund.objects.filter(cause_type=RefundCause.APPEASEMENT, cause_id=created["id"]).count() == 1


def test_put_id_in_body_must_match_the_path(cc, agent, order):
    created = create(cc(agent), order)
    assert_cc_error(cc(agent).put(f"{BASE}/{created['id']}", {"id": "app_other"}, format="json"), 400, "13001", "id")
    same = cc(agent).put(f"{BASE}/{created['id']}", {"id": created["id"], "notes": "Called"}, format="json")
    assert same.status_code == 200


@pytest.mark.parametrize("empty", [{}, {"id": None}], ids=["no fields", "only the id"])
def test_an_empty_put_is_13001_and_moves_nothing(cc, agent, order, empty):
    created = create(cc(agent), order)
    body = {"id": created["id"]} if "id" in empty else {}
    put = cc(agent).put(f"{BASE}/{created['id']}", body, format="json")
    assert_cc_error(put, 400, "13001", "body")
    again = cc(agent).get(f"{BASE}/{created['id']}")
    assert again["ETag"] == f'"{Appeasement.objects.get(appeasement_id=created["id"]).revision}"'
    assert again.json()["lastModifiedDate"] == created["lastModifiedDate"]


def test_changing_only_refunds_or_adding_a_comment_moves_the_etag(cc, agent, order):
    """ETags mean the representation: a second client's If-Match with the old ETag then gets 412."""
    created = create(cc(agent), order)
    url = f"{BASE}/{created['id']}"
    first = cc(agent).get(url)
    old = first["ETag"]
    refund = {**created["appeasementRefunds"][0], "amount": 8}
    refund.pop("state", None)
    changed = cc(agent).put(url, {"appeasementRefunds": [refund]}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != old
    assert changed.json()["lastModifiedDate"] != created["lastModifiedDate"]
    stale = cc(agent).put(url, {"appeasementRefunds": [{**refund, "amount": 3}]}, format="json", HTTP_IF_MATCH=old)
    assert_cc_error(stale, 412, "412")
    assert cc(agent).get(url).json()["appeasementRefunds"][0]["amount"] == 8
    commented = cc(agent).put(
        url, {"comments": [{"comment": "Called back"}]}, format="json", HTTP_IF_MATCH=changed["ETag"]
    )
    assert commented.status_code == 200, commented.content
    assert commented["ETag"] != changed["ETag"]


def test_put_can_move_a_draft_to_another_order_with_the_rules(cc, agent, order):
    created = create(cc(agent), order)
    other = order_with_items(items=1, status="completed")  # 10.00 paid
    r = cc(agent).put(f"{BASE}/{created['id']}", {"orderId": other.order_id}, format="json")
    assert r.status_code == 200
    assert r.json()["orderId"] == other.order_id
    assert r.json()["profileId"] == other.customer_id
    small = order_with_items(items=1, unit_price=Decimal("5.00"), status="completed")
    assert_cc_error(
        cc(agent).put(f"{BASE}/{created['id']}", {"orderId": small.order_id}, format="json"),
        400,
        "13001",
        "appeasementRefunds",
    )


# --------------------------------------------------------------------------- delete, initiate, submit


def test_delete_only_while_incomplete(cc, agent, order):
    draft = create(cc(agent), order)
    r = cc(agent).delete(f"{BASE}/{draft['id']}")
    assert r.status_code == 204
    assert not Appeasement.objects.filter(appeasement_id=draft["id"]).exists()
    assert Appeasement.history.filter(appeasement_id=draft["id"], history_type="-").exists()
    done = create(cc(agent), order)
    cc(agent).post(f"{BASE}/submit", {"id": done["id"]}, format="json")
    assert_cc_error(cc(agent).delete(f"{BASE}/{done['id']}"), 409, "900036")


def test_initiate_tells_what_can_be_appeased(cc, agent, order):
    r = cc(agent).post(f"{BASE}/initiate", {"orderId": order.order_id}, format="json")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["appeasable"] is True
    assert data["refundableAmount"] == 100
    assert data["policyLimit"] == 20
    assert data["currencyCode"] == "USD"
    assert data["profileId"] == order.customer_id
    assert {t["type"] for t in data["refundTypes"]} == {"creditCard", "externalRefund", "storeCredit"}
    assert {"incorrectItem", "itemArrivedDamaged"} <= {x["code"] for x in data["reasons"]}
    (pg,) = data["paymentGroups"]
    assert pg["paymentGroupId"] == order.payments.get().payment_group_id
    assert pg["amount"] == 100
    canceled = order_with_items(items=1, status="canceled")
    assert (
        cc(agent).post(f"{BASE}/initiate", {"orderId": canceled.order_id}, format="json").json()["appeasable"] is False
    )
    assert_cc_error(cc(agent).post(f"{BASE}/initiate", {"orderId": "nope"}, format="json"), 400, "13001", "orderId")
    assert_cc_error(cc(agent).post(f"{BASE}/initiate", {}, format="json"), 400, "13001", "orderId")


def test_submit_by_id_or_create_and_submit(cc, agent, order, django_capture_on_commit_callbacks):
    draft = create(cc(agent), order)
    r = cc(agent).post(f"{BASE}/submit", {"id": draft["id"]}, format="json")
    assert r.status_code == 200
    assert r.json()["state"] == "SUBMITTED"
    assert_cc_error(cc(agent).post(f"{BASE}/submit", {"id": draft["id"]}, format="json"), 409, "900036")
    with django_capture_on_commit_callbacks(execute=True):
        r = cc(agent).post(f"{BASE}/submit", body(order, amount="3.00", refund_type="storeCredit"), format="json")
    assert r.status_code == 201
    assert r.json()["state"] == "SUBMITTED"
    assert cc(agent).get(f"{BASE}/{r.json()['id']}").json()["appeasementRefunds"][0]["state"] == "COMPLETE"
    assert_cc_error(
        cc(agent).post(f"{BASE}/submit", {"id": draft["id"], "notes": "x"}, format="json"), 400, "13001", "notes"
    )
    assert_cc_error(
        cc(agent).post(f"{BASE}/submit", {"reason": "incorrectItem"}, format="json"), 400, "13001", "orderId"
    )


def test_submit_without_refunds_is_invalid(cc, agent, order):
    draft = cc(agent).post(BASE, {"orderId": order.order_id, "reason": "incorrectItem"}, format="json").json()
    assert draft["appeasementRefunds"] == []
    assert_cc_error(
        cc(agent).post(f"{BASE}/submit", {"id": draft["id"]}, format="json"), 400, "13001", "appeasementRefunds"
    )
    assert Appeasement.objects.get(appeasement_id=draft["id"]).state == AppeasementState.INCOMPLETE


# --------------------------------------------------------------------------- auth, site, error bodies


def test_bearer_token_is_required(cc, agent, order, api):
    assert_cc_error(cc(None).get(BASE), 401, "401")
    from rest_framework.test import APIClient

    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_cc_error(bad.get(BASE), 401, "401")
    assert_cc_error(api(agent).get(BASE), 401, "401")  # "Token <key>" is the back-office scheme, not this one
    assert cc(agent).get(BASE).status_code == 200


def test_permissions_are_403_in_the_same_body(cc, order):
    from tests.factories import employee

    nobody = employee("emp_nobody", "agent")
    nobody.groups.clear()
    assert_cc_error(cc(nobody).get(BASE), 403, "403")


def test_x_ccsite(cc, agent, order, settings):
    settings.CCAGENT_SITES = ["siteUS", "siteEU"]
    assert cc(agent).get(BASE, HTTP_X_CCSITE="siteEU").status_code == 200
    data = assert_cc_error(cc(agent).get(BASE, HTTP_X_CCSITE="siteXX"), 400, "30014")
    assert "siteXX" in data["message"]
    assert_cc_error(cc(agent).post(BASE, body(order), format="json", HTTP_X_CCSITE="gone"), 400, "30014")
    assert not Appeasement.objects.exists()


def test_framework_errors_use_the_seed_error_model(cc, agent, order):
    assert_cc_error(cc(agent).patch(f"{BASE}/app1", {}, format="json"), 405, "13001")
    assert_cc_error(cc(agent).post(BASE, "{bad json", content_type="application/json"), 400, "13001")
    r = cc(agent).get("/ccagent/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "900002"
    assert r.json()["status"] == "404"
    assert_cc_error(cc(agent).post(BASE, {**body(order), "bogus": 1}, format="json"), 400, "13001", "bogus")
    assert_cc_error(cc(agent).post(BASE, {"reason": "incorrectItem"}, format="json"), 400, "13001", "orderId")
    data = assert_cc_error(
        cc(agent).post(BASE, body(order, amount="abc"), format="json"), 400, "13001", "appeasementRefunds[0].amount"
    )
    assert data["message"].startswith("appeasementRefunds[0].amount")


def test_unexpected_errors_are_900000(cc, agent, order, monkeypatch, client):
    from appeasements import services

    def boom(**kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(services, "appeasement_create", boom)
    c = cc(agent)
    c.raise_request_exception = False
    r = c.post(BASE, body(order), format="json")
    assert r.status_code == 500
    data = r.json()
    assert data["errorCode"] == "900000"
    assert data["status"] == "500"
    assert data["errors"][0]["errorCode"] == "900000"
    assert "kaput" not in r.content.decode()
