"""Background work for appeasements: following the ledger refunds behind appeasement refunds."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task, task_backends

logger = logging.getLogger(__name__)
RETRY_AFTER = timedelta(minutes=1)
RETRIES = 60


@task()
def sync_refund_states(refund_pks: list[int], attempt: int = 0) -> list[str]:
    """Copy the ledger outcome (COMPLETE/FAILED) onto the appeasement refunds.

    Enqueued after ``orders.tasks.process_refund`` for the same refunds. Where the backend can defer, a
    refund still being processed is looked at again a minute later (for an hour); the API shows the
    ledger's state in any case.
    """
    from appeasements.services import appeasement_refund_states_sync, refund_states_pending

    states = appeasement_refund_states_sync(refund_pks=refund_pks)
    backend = task_backends[sync_refund_states.backend]
    if refund_states_pending(states) and attempt < RETRIES and backend.supports_defer:
        sync_refund_states.using(run_after=timezone.now() + RETRY_AFTER).enqueue(refund_pks, attempt + 1)
    return states
