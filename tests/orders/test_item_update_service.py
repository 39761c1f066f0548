"""orders.services.order_item_update called directly: the admin and other callers use it too."""

import pytest
from django.db import transaction

from config.errors import InvalidFieldValue, ValidationFailed
from orders.errors import ItemNotFound, OrderNotModifiable
from orders.services import order_item_update
from tests.factories import order_with_items
from tests.orders.conftest import snapshot

pytestmark = pytest.mark.django_db


def update(order, item, actor, **changes):
    return order_item_update(
        order_id=order.order_id, order_item_id=str(item.order_item_id), actor=actor, changes=changes
    )


def test_rolled_back_update_sends_no_notification(
    order, item, agent, fulfillment_calls, django_capture_on_commit_callbacks
):
    before = snapshot(item)

    class Boom(Exception):
        pass

    def update_then_fail():
        with transaction.atomic():
            update(order, item, agent, special_instructions="Never seen")
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        update_then_fail()

    assert callbacks == []
    assert fulfillment_calls == []
    assert snapshot(item) == before


def test_notification_carries_item_fields_and_employee(
    order, item, agent, fulfillment_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = update(order, item, agent, store_item_size="Large", preparation_notes="Cold")
    assert result.updated_fields == ["store_item_size", "preparation_notes"]
    assert fulfillment_calls == [
        ((str(item.order_item_id), ["store_item_size", "preparation_notes"], "emp_cs_001"), {})
    ]


def test_revision_increments_once_per_accepted_update(order, item, agent, fulfillment_calls):
    update(order, item, agent, store_item_size="Large", preparation_notes="Cold")
    item.refresh_from_db()
    assert item.revision == 2
    update(order, item, agent, store_item_size="Large")  # no change
    item.refresh_from_db()
    assert item.revision == 2


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"store_item_category": None}, ValidationFailed),
        ({"store_item_category": "Nope"}, InvalidFieldValue),
        ({"store_item_name": "  "}, ValidationFailed),
    ],
)
def test_service_refusals_change_nothing(order, item, agent, fulfillment_calls, changes, error):
    before = snapshot(item)
    with pytest.raises(error):
        update(order, item, agent, **changes)
    assert snapshot(item) == before


def test_service_checks_status_and_ownership(agent, fulfillment_calls):
    closed = order_with_items(status="completed")
    with pytest.raises(OrderNotModifiable) as exc:
        update(closed, closed.items.first(), agent, special_instructions="x")
    assert exc.value.extra == {"current_status": "completed"}
    other = order_with_items()
    with pytest.raises(ItemNotFound):
        update(other, closed.items.first(), agent, special_instructions="x")
