"""Background work for orders. The tasks are defined in ``orders.services``, beside what they run; their names here
are kept for jobs queued under them (a job names its task by module path)."""

from orders.services import notify_fulfillment, process_refund

__all__ = ["notify_fulfillment", "process_refund"]
