"""Background work for webhooks. The tasks are defined in ``webhooks.services``, beside what they run; their names
here are kept for jobs queued under them (a job names its task by module path)."""

from webhooks.services import deliver_stream, dispatch_outbox, sweep_deliveries

__all__ = ["deliver_stream", "dispatch_outbox", "sweep_deliveries"]
