"""Every write to order issues, their notes, approval requests and notifications.

API views, admin pages and commands call these functions; they enforce the rules of the approval queue and the
issue update contract and raise domain errors. Each public function is one transaction: a refused call changes
nothing (no field, note, refund, approval or history row). One module per use case:

- ``common``: finding and locking an issue, saving it with history, notes, who can be assigned;
- ``create``: reporting an issue; ``update``: the issue update contract in named steps, the admin's buttons;
- ``requests``: the approval queue (asking, deciding under four eyes, withdrawing);
- ``notifications``: employees' and customers' notifications, follow-up reminders, other apps' signals.

Callers import from ``issues.services``; the modules import each other, never this package.
"""

from issues.services.common import (
    ISSUE_TARGET,
    NOTES_MAX,
    allowed_statuses,
    assignable_employee,
    find_transition,
    issue_get,
    issue_locked,
)
from issues.services.create import issue_create
from issues.services.notifications import (
    follow_up_reminders_send,
    notifications_deliver,
    notify,
    notify_customer,
    refund_failed_notify,
    subscription_disabled_notify,
)
from issues.services.requests import approval_cancel, approval_decide, approval_request_open
from issues.services.update import (
    IssueChange,
    IssueUpdateResult,
    issue_note_add,
    issue_transition,
    issue_update,
    issue_update_locked,
)

__all__ = [
    "ISSUE_TARGET",
    "NOTES_MAX",
    "IssueChange",
    "IssueUpdateResult",
    "allowed_statuses",
    "approval_cancel",
    "approval_decide",
    "approval_request_open",
    "assignable_employee",
    "find_transition",
    "follow_up_reminders_send",
    "issue_create",
    "issue_get",
    "issue_locked",
    "issue_note_add",
    "issue_transition",
    "issue_update",
    "issue_update_locked",
    "notifications_deliver",
    "notify",
    "notify_customer",
    "refund_failed_notify",
    "subscription_disabled_notify",
]
