"""Background work for issues: e-mailing notifications after the write that created them commits."""

import logging

from django_tasks import task

logger = logging.getLogger("issues.notifications")


@task()
def deliver_notifications(notification_ids: list[int]) -> int:
    from issues.services import notifications_deliver

    return notifications_deliver(notification_ids=notification_ids)
