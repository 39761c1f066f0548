"""factory_boy factories shared by every app's tests."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from config.people import employee_upsert
from orders.models import Category, Order, OrderItem, Payment, Promotion, Shipment, ShipmentLine


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order with no items; use ``order_with_items`` for a consistent paid order."""

    class Meta:
        model = Order

    currency = "USD"
    customer_id = factory.Sequence(lambda n: f"cust{n:05d}")
    customer_first_name = "Mark"
    customer_last_name = "Styler"
    customer_email = factory.Sequence(lambda n: f"customer{n}@example.com")
    customer_phone = factory.Sequence(lambda n: f"555-555-{n:04d}")
    ship_to_street1 = "10400 NE 4th St"
    ship_to_city = "Bellevue"
    ship_to_state = "WA"
    ship_to_zip_code = "98004"
    ship_to_country = "USA"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    sku = factory.Sequence(lambda n: f"SKU{n:06d}")
    store_item_name = factory.Sequence(lambda n: f"Item {n}")
    category = factory.SubFactory(CategoryFactory, name="Home")
    store_item_size = "1 count"
    quantity = 1
    unit_price = Decimal("10.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    payment_group_id = factory.Sequence(lambda n: f"pg{n + 1000}")
    payment_method = "Visa"
    amount = Decimal("10.00")
    currency = "USD"


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    carrier = "USPS"
    tracking_number = factory.Sequence(lambda n: f"9400{n:08d}")


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    """What a shipment carried: a quantity of one of its order's items (pass ``order_item``)."""

    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory, order=factory.SelfAttribute("..order_item.order"))
    order_item = factory.SubFactory(OrderItemFactory)
    quantity = 1


class PromotionFactory(factory.django.DjangoModelFactory):
    """A promotion on an order's shipping; pass ``order_item`` for one on an item."""

    class Meta:
        model = Promotion

    order = factory.SubFactory(OrderFactory)
    name = factory.Sequence(lambda n: f"PROMO{n}")


def order_with_items(*, items: int = 2, unit_price: Decimal = Decimal("10.00"), quantity: int = 1, status=None, **kw):
    """A paid order: ``items`` lines, one captured payment of the order total.

    ``status`` sets the workflow state directly, which only test data may do.
    """
    total = (unit_price * quantity * items).quantize(Decimal("0.01"))
    if status:
        kw["status"] = status  # set at construction (the row is created in that state), never assigned later
    order = OrderFactory(subtotal=total, order_total=total, **kw)
    for n in range(items):
        OrderItemFactory(order=order, line_number=n + 1, unit_price=unit_price, quantity=quantity)
    PaymentFactory(order=order, amount=total)
    order.refresh_from_db()
    return order


def employee(employee_id: str, role: str = "agent"):
    user, _token = employee_upsert(employee_id=employee_id, role=role, password="pass-" + employee_id)
    return get_user_model().objects.get(pk=user.pk)


# --------------------------------------------------------------------------- issues (issue 3)


def issue_factory(order=None, *, status=None, actor=None, **kw):
    """An order issue on ``order`` (a paid two-item order when None).

    ``status`` sets the workflow state directly, which only test data may do.
    """
    from issues.models import OrderIssue

    order = order or order_with_items()
    kw.setdefault("issue_type", "wrong_item")
    kw.setdefault("title", "Wrong item received")
    issue = OrderIssue.objects.create(order=order, created_by=actor, **kw)
    if status:
        OrderIssue.objects.filter(pk=issue.pk).update(status=status)
        issue = OrderIssue.objects.get(pk=issue.pk)
    return issue


def submitted_appeasement(order, agent, *, refund_type: str = "creditCard", amount=Decimal("10.00"), issue=None):
    """An appeasement on ``order`` created and submitted by ``agent`` through the services: one refund of ``amount``
    (``creditCard`` pays the order's payment through the ledger's merchant processor)."""
    from appeasements import services as appeasements

    payment = order.payments.get().payment_group_id if refund_type == "creditCard" else ""
    created = appeasements.appeasement_create(
        caller=agent,
        data=appeasements.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            issue_id=issue.issue_id if issue else None,
            refunds=[appeasements.RefundInput(refund_type=refund_type, amount=amount, payment_group_id=payment)],
        ),
    )
    appeasements.appeasement_submit(appeasement_id=created.appeasement_id, caller=agent)
    return created


# --------------------------------------------------------------------------- returns (issue 5)


def return_factory(order, *, actor, reason: str = "2001", scope: str = "lines"):
    """A return row on ``order`` as the admin would file it (no lines, no refund): for pages and listings."""
    from returns.models import Return, ReturnReason

    return Return.objects.create(
        order=order,
        scope=scope,
        reason=ReturnReason.objects.get(code=reason),
        currency="USD",
        created_via="admin",
        created_by=actor,
        created_by_label=actor.username,
    )
