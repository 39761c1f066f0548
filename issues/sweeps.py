"""Finding background work whose job was lost (docs/adr/0014-task-backend-on-several-nodes.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from issues.models import Notification
from issues.services import notifications_deliver

RESEND_WINDOW = timedelta(days=1)  # older unsent notifications stay in the app, unmailed


def notifications_resend(*, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> int:
    """E-mail the notifications created between a day and ``older_than`` ago that were never e-mailed (their job
    was lost: a queue flushed, an enqueue that failed after commit). Each is locked and sent once
    (:func:`issues.services.notifications_deliver`). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            created_at__gte=now - RESEND_WINDOW, created_at__lt=now - older_than, emailed_at__isnull=True
        )
        .filter(Q(recipient__email__gt="") | Q(recipient_email__gt=""))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return notifications_deliver(notification_ids=ids) if ids else 0
