"""PATCH /api/v1/orders/{order_id}/order-items/{order_item_id}: seed 003, field by field."""

import uuid

import pytest
from django.utils.dateparse import parse_datetime

from orders.models import Category, OrderStatus
from tests.factories import CategoryFactory, employee, order_with_items
from tests.orders.conftest import ISO_Z, item_url, snapshot

pytestmark = pytest.mark.django_db

SEED_REQUEST = {
    "special_instructions": "Pack item carefully - fragile",
    "store_item_name": "Pearson Nut Roll King",
    "store_item_description": "Crunchy, salty peanut roll with caramel center",
    "store_item_category": "Snacks",
    "store_item_size": "1 count",
    "preparation_notes": "Check expiration date before packing",
    "updated_by": "emp_12345",
}
ALL_FIELDS = [
    "special_instructions",
    "store_item_name",
    "store_item_description",
    "store_item_category",
    "store_item_size",
    "preparation_notes",
]


def validation_body(field, error):
    return {
        "success": False,
        "message": "Field validation failed",
        "error_code": "VALIDATION_ERROR",
        "validation_errors": [{"field": field, "error": error}],
    }


# ----------------------------------------------------------------- success


def test_seed_request_example_answers_seed_response_shape(api, order, item, fulfillment_calls):
    # given the seed's employee and category; the item starts with a different size
    emp = employee("emp_12345", "agent")
    CategoryFactory(name="Snacks")
    item.store_item_size = "2 count"
    item.save()

    # when
    r = api(emp).patch(item_url(order, item), SEED_REQUEST, format="json")

    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"success", "message", "order_item_id", "updated_fields", "timestamp"}
    assert body["success"] is True
    assert body["message"] == "Order item successfully updated"
    assert body["order_item_id"] == str(item.order_item_id)
    assert body["updated_fields"] == ALL_FIELDS
    assert ISO_Z.match(body["timestamp"]), body["timestamp"]
    assert parse_datetime(body["timestamp"]).utcoffset().total_seconds() == 0

    item.refresh_from_db()
    assert item.special_instructions == "Pack item carefully - fragile"
    assert item.store_item_name == "Pearson Nut Roll King"
    assert item.store_item_description == "Crunchy, salty peanut roll with caramel center"
    assert item.category.name == "Snacks"
    assert item.store_item_size == "1 count"
    assert item.preparation_notes == "Check expiration date before packing"


def test_updated_fields_lists_only_changed_values(api, agent, order, item, fulfillment_calls):
    # given: size and category already hold the values sent
    assert item.store_item_size == "1 count"
    assert item.category.name == "Home"

    r = api(agent).patch(
        item_url(order, item),
        {"store_item_size": "1 count", "store_item_category": "Home", "preparation_notes": "Cold pack"},
        format="json",
    )

    assert r.status_code == 200, r.content
    assert r.json()["updated_fields"] == ["preparation_notes"]


def test_no_change_is_success_without_history_or_notification(
    api, agent, order, item, fulfillment_calls, django_capture_on_commit_callbacks
):
    before = snapshot(item)

    with django_capture_on_commit_callbacks(execute=True):
        r = api(agent).patch(item_url(order, item), {"store_item_size": item.store_item_size}, format="json")

    assert r.status_code == 200, r.content
    assert r.json()["success"] is True
    assert r.json()["updated_fields"] == []
    assert snapshot(item) == before
    assert fulfillment_calls == []


def test_accepted_update_writes_one_history_row_with_employee_and_reason(api, agent, order, item, fulfillment_calls):
    before = item.history.count()

    r = api(agent).patch(
        item_url(order, item),
        {"special_instructions": "No nuts", "store_item_size": "Large", "updated_by": "emp_cs_001"},
        format="json",
    )

    assert r.status_code == 200, r.content
    assert item.history.count() == before + 1
    row = item.history.latest()
    assert row.history_user == agent
    assert row.history_change_reason
    assert "special_instructions" in row.history_change_reason
    assert row.special_instructions == "No nuts"
    assert row.store_item_size == "Large"


def test_exact_limits_are_accepted(api, agent, order, item, fulfillment_calls):
    body = {
        "special_instructions": "a" * 500,
        "store_item_name": "n" * 200,
        "store_item_description": "d" * 1000,
        "store_item_size": "s" * 50,
    }
    r = api(agent).patch(item_url(order, item), body, format="json")
    assert r.status_code == 200, r.content
    item.refresh_from_db()
    assert len(item.special_instructions) == 500
    assert len(item.store_item_name) == 200
    assert len(item.store_item_description) == 1000
    assert len(item.store_item_size) == 50


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
def test_modifiable_statuses_accept_updates(api, agent, status, fulfillment_calls):
    order = order_with_items(status=status)
    item = order.items.first()
    r = api(agent).patch(item_url(order, item), {"preparation_notes": "ok"}, format="json")
    assert r.status_code == 200, r.content


def test_category_match_is_case_sensitive_even_when_both_exist(api, agent, order, item, fulfillment_calls):
    CategoryFactory(name="home")
    r = api(agent).patch(item_url(order, item), {"store_item_category": "home"}, format="json")
    assert r.status_code == 200, r.content
    item.refresh_from_db()
    assert item.category.name == "home"


def test_renaming_an_item_to_its_own_name_in_other_case_is_allowed(api, agent, order, item, fulfillment_calls):
    r = api(agent).patch(item_url(order, item), {"store_item_name": item.store_item_name.upper()}, format="json")
    assert r.status_code == 200, r.content


def test_same_name_in_another_order_is_allowed(api, agent, order, item, fulfillment_calls):
    other = order_with_items(items=1)
    other.items.update(store_item_name="Shared name")
    r = api(agent).patch(item_url(order, item), {"store_item_name": "Shared name"}, format="json")
    assert r.status_code == 200, r.content


# ----------------------------------------------------------------- notifications


def test_fulfillment_notified_only_after_commit(
    api, agent, order, item, fulfillment_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = api(agent).patch(item_url(order, item), {"special_instructions": "Gift wrap"}, format="json")
        assert r.status_code == 200, r.content
        assert fulfillment_calls == []  # nothing sent inside the transaction

    assert len(callbacks) == 2  # the fulfillment message, and the webhook outbox's dispatch
    for callback in callbacks:
        callback()
    assert fulfillment_calls == [((str(item.order_item_id), ["special_instructions"], "emp_cs_001"), {})]


def test_fulfillment_task_runs_with_the_real_backend(
    api, agent, order, item, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level("INFO", logger="orders.fulfillment")
    with django_capture_on_commit_callbacks(execute=True):
        r = api(agent).patch(item_url(order, item), {"special_instructions": "Gift wrap"}, format="json")
    assert r.status_code == 200, r.content
    assert any(str(item.order_item_id) in rec.getMessage() for rec in caplog.records)


# ----------------------------------------------------------------- validation errors

LIMIT_CASES = [
    ("special_instructions", 501, "Must be less than 500 characters"),
    ("store_item_name", 201, "Must be less than 200 characters"),
    ("store_item_description", 1001, "Must be less than 1000 characters"),
    ("store_item_size", 51, "Must be less than 50 characters"),
    ("preparation_notes", 1001, "Must be less than 1000 characters"),
]


def assert_refused_without_trace(item, before, fulfillment_calls):
    assert snapshot(item) == before
    assert fulfillment_calls == []


@pytest.mark.parametrize(("field", "length", "error"), LIMIT_CASES)
def test_length_limits(api, agent, order, item, fulfillment_calls, field, length, error):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {field: "x" * length}, format="json")
    assert r.status_code == 400
    assert r.json() == validation_body(field, error)
    assert_refused_without_trace(item, before, fulfillment_calls)


@pytest.mark.parametrize(
    "text",
    [
        "<b>fragile</b>",
        "Pack <script>alert(1)</script>",
        "fragile<br>",
        "Tom &amp; Jerry",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_html_in_special_instructions_refused(api, agent, order, item, fulfillment_calls, text):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"special_instructions": text}, format="json")
    assert r.status_code == 400
    assert r.json() == validation_body("special_instructions", "HTML or special formatting is not allowed")
    assert_refused_without_trace(item, before, fulfillment_calls)


@pytest.mark.parametrize("text", ["Qty 2 < 3, ok? Yes! (50% off) #12 - fragile.", "Keep below 5 C & dry"])
def test_plain_punctuation_and_numbers_allowed(api, agent, order, item, fulfillment_calls, text):
    r = api(agent).patch(item_url(order, item), {"special_instructions": text}, format="json")
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("name", ["", "   ", None])
def test_empty_name_refused(api, agent, order, item, fulfillment_calls, name):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"store_item_name": name}, format="json")
    assert r.status_code == 400
    assert r.json() == validation_body("store_item_name", "Cannot be empty")
    assert_refused_without_trace(item, before, fulfillment_calls)


@pytest.mark.parametrize("transform", [str, str.upper, lambda s: f"  {s} "])
def test_duplicate_name_within_order_refused(api, agent, order, fulfillment_calls, transform):
    first, second = order.items.order_by("line_number")
    before = snapshot(first)
    r = api(agent).patch(item_url(order, first), {"store_item_name": transform(second.store_item_name)}, format="json")
    assert r.status_code == 400
    assert r.json() == validation_body("store_item_name", "Must be unique within the order")
    assert_refused_without_trace(first, before, fulfillment_calls)


def test_null_category_refused(api, agent, order, item, fulfillment_calls):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"store_item_category": None}, format="json")
    assert r.status_code == 400
    assert r.json() == validation_body("store_item_category", "Cannot be null")
    assert_refused_without_trace(item, before, fulfillment_calls)


@pytest.mark.parametrize("value", ["InvalidCategory", "home", "HOME", "Home "])
def test_unknown_or_wrong_case_category_is_invalid_field_value(api, agent, order, item, fulfillment_calls, value):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"store_item_category": value}, format="json")
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "message": "Invalid value provided for field",
        "error_code": "INVALID_FIELD_VALUE",
        "field": "store_item_category",
        "provided_value": value,
    }
    assert_refused_without_trace(item, before, fulfillment_calls)


@pytest.mark.parametrize(
    "field", ["quantity", "unit_price", "discount", "tax", "sku", "item_id", "order_item_id", "order_id", "line_number"]
)
def test_immutable_fields_refused_by_name(api, agent, order, item, fulfillment_calls, field):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"special_instructions": "ok", field: "5"}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["message"] == "Field validation failed"
    assert [e["field"] for e in body["validation_errors"]] == [field]
    assert "immutable" in body["validation_errors"][0]["error"]
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_unknown_field_refused(api, agent, order, item, fulfillment_calls):
    before = snapshot(item)
    r = api(agent).patch(
        item_url(order, item), {"special_instructions": "ok", "special_instruction": "typo"}, format="json"
    )
    assert r.status_code == 400
    assert r.json() == validation_body("special_instruction", "Unknown field")
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_empty_body_refused(api, agent, order, item, fulfillment_calls):
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"updated_by": "emp_cs_001"}, format="json")
    assert r.status_code == 400
    assert r.json()["error_code"] == "VALIDATION_ERROR"
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_refused_mixed_update_changes_nothing(api, agent, order, item, fulfillment_calls):
    """A valid field next to an invalid one: nothing of it is applied."""
    before = snapshot(item)
    for body in (
        {"special_instructions": "ok", "store_item_category": "Nope"},
        {"special_instructions": "ok", "store_item_name": order.items.exclude(pk=item.pk).get().store_item_name},
        {"special_instructions": "ok", "store_item_size": "x" * 51},
        {"preparation_notes": "ok", "updated_by": "emp_nobody"},
    ):
        r = api(agent).patch(item_url(order, item), body, format="json")
        assert r.status_code == 400, (body, r.content)
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_validation_errors_list_every_bad_field(api, agent, order, item, fulfillment_calls):
    r = api(agent).patch(
        item_url(order, item),
        {"special_instructions": "x" * 501, "store_item_size": "y" * 51},
        format="json",
    )
    assert r.status_code == 400
    errors = {e["field"]: e["error"] for e in r.json()["validation_errors"]}
    assert errors == {
        "special_instructions": "Must be less than 500 characters",
        "store_item_size": "Must be less than 50 characters",
    }


# ----------------------------------------------------------------- not found / not modifiable


@pytest.mark.parametrize("item_id", [str(uuid.uuid4()), "invalid-item-id", "12345"])
def test_unknown_or_malformed_item_is_item_not_found(api, agent, order, fulfillment_calls, item_id):
    r = api(agent).patch(item_url(order, item_id), {"special_instructions": "ok"}, format="json")
    assert r.status_code == 404
    assert r.json() == {
        "success": False,
        "message": "Order item not found",
        "error_code": "ITEM_NOT_FOUND",
        "order_item_id": item_id,
    }


@pytest.mark.parametrize("body", [{"quantity": 3}, {"special_instructions": "x" * 501}, {}])
def test_missing_item_is_not_found_whatever_the_body(api, agent, order, fulfillment_calls, body):
    r = api(agent).patch(item_url(order, "invalid-item-id"), body, format="json")
    assert r.status_code == 404
    assert r.json()["error_code"] == "ITEM_NOT_FOUND"


def test_item_of_another_order_is_item_not_found(api, agent, order, fulfillment_calls):
    other_item = order_with_items(items=1).items.get()
    before = snapshot(other_item)
    r = api(agent).patch(item_url(order, other_item), {"special_instructions": "ok"}, format="json")
    assert r.status_code == 404
    assert r.json()["error_code"] == "ITEM_NOT_FOUND"
    assert r.json()["order_item_id"] == str(other_item.order_item_id)
    assert_refused_without_trace(other_item, before, fulfillment_calls)


def test_unknown_order_is_not_found(api, agent, item, fulfillment_calls):
    r = api(agent).patch(
        f"/api/v1/orders/0000-0000-00000/order-items/{item.order_item_id}",
        {"special_instructions": "ok"},
        format="json",
    )
    assert r.status_code == 404
    assert r.json()["success"] is False
    assert r.json()["error_code"] == "ORDER_NOT_FOUND"


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.CANCELED])
def test_closed_order_not_modifiable(api, agent, fulfillment_calls, status):
    order = order_with_items(status=status)
    item = order.items.first()
    before = snapshot(item)
    r = api(agent).patch(item_url(order, item), {"special_instructions": "ok"}, format="json")
    assert r.status_code == 409
    assert r.json() == {
        "success": False,
        "message": "Order cannot be modified in current status",
        "error_code": "ORDER_NOT_MODIFIABLE",
        "current_status": status.value,
    }
    assert_refused_without_trace(item, before, fulfillment_calls)


# ----------------------------------------------------------------- who


def test_updated_by_another_employee_is_forbidden_for_an_agent(api, agent, other_agent, order, item, fulfillment_calls):
    before = snapshot(item)
    r = api(agent).patch(
        item_url(order, item), {"special_instructions": "ok", "updated_by": other_agent.username}, format="json"
    )
    assert r.status_code == 403
    assert r.json()["success"] is False
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_manager_cannot_act_for_another_employee_either(api, manager, agent, order, item, fulfillment_calls):
    r = api(manager).patch(
        item_url(order, item), {"special_instructions": "ok", "updated_by": "emp_cs_001"}, format="json"
    )
    assert r.status_code == 403
    assert r.json()["error_code"] == "PERMISSION_DENIED"


def test_service_account_acts_for_named_employee(api, service, agent, order, item, fulfillment_calls):
    r = api(service).patch(
        item_url(order, item),
        {"special_instructions": "From the storefront", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert item.history.latest().history_user == agent


def test_service_account_without_updated_by_is_the_actor(api, service, order, item, fulfillment_calls):
    r = api(service).patch(item_url(order, item), {"special_instructions": "From the storefront"}, format="json")
    assert r.status_code == 200, r.content
    assert item.history.latest().history_user == service


@pytest.mark.parametrize("caller", ["agent", "service"])
def test_unknown_updated_by_is_a_validation_error(request, api, order, item, fulfillment_calls, caller):
    user = request.getfixturevalue(caller)
    before = snapshot(item)
    r = api(user).patch(item_url(order, item), {"special_instructions": "ok", "updated_by": "emp_ghost"}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in body["validation_errors"]] == ["updated_by"]
    assert_refused_without_trace(item, before, fulfillment_calls)


def test_inactive_employee_is_unknown(api, service, other_agent, order, item, fulfillment_calls):
    other_agent.is_active = False
    other_agent.save()
    r = api(service).patch(
        item_url(order, item), {"special_instructions": "ok", "updated_by": "emp_cs_002"}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["error_code"] == "VALIDATION_ERROR"


def test_anonymous_is_401(api, order, item):
    r = api(None).patch(item_url(order, item), {"special_instructions": "ok"}, format="json")
    assert r.status_code == 401
    assert r.json()["error_code"] == "AUTHENTICATION_REQUIRED"


def test_categories_are_not_created_by_an_item_update(api, agent, order, item, fulfillment_calls):
    count = Category.objects.count()
    api(agent).patch(item_url(order, item), {"store_item_category": "Brand new"}, format="json")
    assert Category.objects.count() == count
