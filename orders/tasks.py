"""Background work for orders: refund processing and fulfilment notifications (after commit)."""

import logging

from django_tasks import task

logger = logging.getLogger("orders.fulfillment")


@task()
def process_refund(refund_pk: int) -> str:
    from orders.services import refund_process

    return refund_process(refund_pk=refund_pk)


@task()
def notify_fulfillment(order_item_id: str, updated_fields: list[str], updated_by: str) -> None:
    """Tell the kitchen / fulfilment system that an item's metadata changed.

    The fulfilment system's endpoint is not part of this project yet; the message is logged with
    everything the receiver needs.
    """
    logger.info("order item %s updated by %s: %s", order_item_id, updated_by, ", ".join(updated_fields))
