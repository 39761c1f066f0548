"""Background work for issues: e-mailing notifications after the write that created them commits. The task is
defined beside the service it runs (``issues.services.notifications``); this name stays for jobs queued under it."""

from issues.services.notifications import deliver_notifications

__all__ = ["deliver_notifications"]
