"""seed_demo fills seed 002's whole order (issue 21), on the small demo path and on the bulk (scale) path."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from orders.models import Order, OrderItem, Payment, Promotion, Shipment, ShipmentLine
from returns.fabric.serializers import fabric_order
from returns.models import OrderStatusDescription
from tests.returns.conftest import SEED_ANSWER
from tests.returns.test_fabric_seed_order import assert_seed_shape

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("scale", [False, True], ids=["demo", "scale"])
def test_seeded_orders_carry_the_seeds_whole_order(scale, django_assert_max_num_queries):
    # when
    call_command("seed_demo", orders=24, batch=10, scale=scale, refunds=0, issues=0, stdout=StringIO())
    # then: every order has its fabric data, its totals count the shipping, shipments say what they carried
    assert not Order.objects.filter(ship_to_carrier="").exists()
    assert not Order.objects.filter(ship_to_method="").exists()
    assert not Order.objects.filter(events=[]).exists()
    assert not OrderItem.objects.filter(weight__isnull=True).exists()
    assert not Payment.objects.filter(bill_to_street1="").exists()
    assert not Payment.objects.filter(token_reference="").exists()
    assert not Shipment.objects.filter(carrier_url="").exists()
    for order in Order.objects.annotate(items_total=Sum("items__quantity")).prefetch_related("items"):
        net = sum((i.quantity * i.unit_price - i.discount for i in order.items.all()), Decimal("0"))
        assert order.order_total == net + order.ship_to_price + order.tax_total
        assert order.payments.get().amount == order.order_total
        shipment = order.shipments.first()
        if shipment is not None:
            carried = shipment.lines.aggregate(n=Sum("quantity"))["n"]
            assert carried == order.items_total
            assert shipment.carrier == order.ship_to_carrier
    assert Promotion.objects.exists()
    assert ShipmentLine.objects.exists()
    for model in (ShipmentLine, Promotion):
        assert model.history.count() == model.objects.count()  # each row with its history row
    assert len(set(Order.objects.values_list("object_id", flat=True))) == 24
    # a delivered order answers the seed's whole shape
    order = (
        Order.objects.filter(status="completed", payments__card_last_four__gt="", promotions__isnull=False)
        .distinct()
        .first()
    )
    OrderStatusDescription.objects.create(order=order, status="completed", code="", description="Delivered")
    with django_assert_max_num_queries(7):  # the order is read already: its relations, a fixed number
        body = fabric_order(order)
    assert_seed_shape(SEED_ANSWER["order"], _json(body), whole=False)  # an item may have no promotion


def _json(data):
    """The order object as a client reads it (through the API's renderer)."""
    import json

    from config.api.renderers import MoneyJSONRenderer

    return json.loads(MoneyJSONRenderer().render(data))
