"""Background work for webhooks (django-tasks: the database backend, or RQ by setting)."""

from django_tasks import task


@task()
def dispatch_outbox() -> int:
    """Fan committed events out to their subscriptions (one run handles every pending event)."""
    from webhooks.services import outbox_dispatch

    return outbox_dispatch()


@task()
def deliver_stream(subscription_pk: int, stream_key: str) -> str:
    """Deliver one (subscription, order) stream in event order."""
    from webhooks.services import stream_deliver

    result = stream_deliver(subscription_pk=subscription_pk, stream_key=stream_key)
    return f"{result.sent} sent, {result.state}"


@task()
def sweep_deliveries() -> int:
    """Pick up what nobody is working on: undispatched events, due retries, expired leases."""
    from webhooks.services import deliveries_sweep, outbox_dispatch

    outbox_dispatch()
    return deliveries_sweep()
