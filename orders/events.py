"""How orders, their items and refunds appear in webhook events (registered in ``OrdersConfig.ready``): the REST
representation, read as the API reads it; items and refunds gain ``order_id``."""

from __future__ import annotations

from webhooks.events import Described


def _order(obj) -> Described:
    from orders.api.serializers import OrderDetailOutput
    from orders.selectors import order_detail_queryset

    order = order_detail_queryset().get(pk=obj.pk)
    return dict(OrderDetailOutput(order).data), order.account, order.order_id


def _item(obj) -> Described:
    from orders.api.serializers import OrderItemOutput
    from orders.models import OrderItem

    item = OrderItem.objects.select_related("category", "order").get(pk=obj.pk)
    data = {"order_id": item.order.order_id, **OrderItemOutput(item).data}
    return data, item.order.account, item.order.order_id


def _refund(obj) -> Described:
    from orders.api.serializers import RefundOutput

    order = obj.order
    return {"order_id": order.order_id, **RefundOutput(obj).data}, order.account, order.order_id


def lock_order_stream(order_id: str) -> None:
    """The order row's lock, which every money and status write takes first (``webhooks.services``)."""
    from orders.models import Order

    list(Order.objects.select_for_update().filter(order_id=order_id).values_list("pk", flat=True))


def knows_account(account: str) -> bool:
    from orders.models import Order

    return Order.objects.filter(account=account).exists()


DESCRIBERS = {"orders.Order": _order, "orders.OrderItem": _item, "orders.Refund": _refund}
