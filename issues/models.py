"""Order issues: the resolution workflow, the communication log, approval requests and notifications.

The allowed status moves live in the transition methods of :class:`OrderIssue` and nowhere else.
A transition's ``permission`` says who may *start* the move; ``custom["approval_permission"]`` (escalate,
reopen) says who may apply it at once. Anyone else who may start it gets an :class:`ApprovalRequest`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import FSMField, transition

from config.fsm import ConcurrentTransitionMixin
from config.history import HistoricalRecords
from config.ids import new_prefixed_id
from issues import sla
from orders.models import Order, OrderItem

CHANGE_ISSUE = "issues.change_orderissue"
CLOSE_ISSUE = "issues.close_issue"
ESCALATE_ISSUE = "issues.escalate_issue"
REOPEN_ISSUE = "issues.reopen_issue"
HANDLE_ESCALATED = "issues.handle_escalated_issue"
DECIDE_APPROVAL = "issues.decide_approvalrequest"


def new_issue_id() -> str:
    return new_prefixed_id("issue_")


def new_approval_id() -> str:
    return new_prefixed_id("apr_")


class IssueType(models.TextChoices):
    WRONG_ITEM = "wrong_item", "Wrong item"
    MISSING_ITEM = "missing_item", "Missing item"
    DAMAGED_ITEM = "damaged_item", "Damaged item"
    QUALITY = "quality", "Quality"
    LATE_DELIVERY = "late_delivery", "Late delivery"
    BILLING = "billing", "Billing"
    OTHER = "other", "Other"


class IssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    ESCALATED = "escalated", "Escalated"


class IssuePriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


PRIORITY_RANK = {IssuePriority.LOW: 0, IssuePriority.MEDIUM: 1, IssuePriority.HIGH: 2, IssuePriority.CRITICAL: 3}

S = IssueStatus


class OrderIssue(ConcurrentTransitionMixin, models.Model):
    issue_id = models.CharField(max_length=40, unique=True, default=new_issue_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="issues")
    affected_items = models.ManyToManyField(OrderItem, blank=True, related_name="issues")
    issue_type = models.CharField(max_length=16, choices=IssueType.choices, db_index=True)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    status = FSMField(max_length=16, choices=IssueStatus.choices, default=IssueStatus.OPEN, protected=True)
    priority = models.CharField(max_length=10, choices=IssuePriority.choices, default=IssuePriority.MEDIUM)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_issues"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_description = models.TextField(max_length=5000, blank=True)
    customer_satisfied = models.BooleanField(null=True, blank=True, help_text="Unknown until the customer says.")
    follow_up_required = models.BooleanField(default=False)
    follow_up_date = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # SLA clocks (docs/admin.md): see issues/sla.py. Deadlines are stored; what depends on "now" is annotated.
    first_response_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Opened + resolution target + finished waits on the customer"
    )
    sla_paused = models.DurationField(default=timedelta(0), editable=False, help_text="Finished waits on the customer")
    sla_paused_since = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("close_issue", "Can close issues"),
            ("escalate_issue", "Can escalate issues without approval"),
            ("reopen_issue", "Can reopen closed issues without approval"),
            ("handle_escalated_issue", "Can move escalated issues on"),
        ]
        indexes = [
            models.Index(fields=["status", "priority"], name="issue_status_priority_idx"),
            models.Index(fields=["assigned_to", "status"], name="issue_assignee_status_idx"),
            models.Index(fields=["follow_up_required", "follow_up_date"], name="issue_follow_up_idx"),
            models.Index(fields=["status", "resolution_due_at"], name="issue_status_sla_due_idx"),
            # Performance at scale (docs/performance.md): the admin's exact (case-insensitive) search, filters with the
            # changelist's newest-first order.
            models.Index(Upper("issue_id"), name="issue_issue_id_upper_idx"),
            models.Index(fields=["priority", "-created_at"], name="issue_priority_created_idx"),
            models.Index(fields=["issue_type", "-created_at"], name="issue_type_created_idx"),
            # the status filter (admin and /api/v1/issues?status=) under the newest-first order
            models.Index(fields=["status", "-created_at", "-id"], name="issue_status_created_idx"),
            # an employee's open queue, oldest first: the sidebar's "My open issues" badge (a bounded count) and the
            # workspace's next issue ("j") walk it instead of every open issue of the assignee
            models.Index(
                fields=["assigned_to", "created_at", "id"],
                condition=~models.Q(status__in=["resolved", "closed"]),
                name="issue_open_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.issue_id

    def save(self, *args, **kwargs) -> None:
        if self.resolution_due_at is None or self.first_response_due_at is None:
            sla.schedule(self)  # a new issue: its deadlines follow from its priority
        super().save(*args, **kwargs)

    @property
    def follow_up_due(self) -> bool:
        return bool(self.follow_up_required and self.follow_up_date and self.follow_up_date <= timezone.now())

    # --- workflow: the allowed moves live here and only here ------------------------------------
    # Forward: open -> investigating -> in_progress -> resolved -> closed. Back one step each.
    # Any state but closed -> escalated; a manager moves escalated on. closed -> open is a reopening.

    @transition(
        field=status, source=S.INVESTIGATING, target=S.OPEN, permission=CHANGE_ISSUE, custom={"label": "Back to open"}
    )
    def back_to_open(self) -> None:
        """Investigation found nothing yet; the issue waits for review again."""

    @transition(
        field=status,
        source=S.CLOSED,
        target=S.OPEN,
        permission=CHANGE_ISSUE,
        custom={"label": "Reopen", "approval_permission": REOPEN_ISSUE, "approval_kind": "reopen"},
    )
    def reopen(self) -> None:
        """A closed issue comes back (a manager's decision)."""
        self.reopen_count += 1
        self.resolved_at = None
        self.closed_at = None

    @transition(
        field=status,
        source=S.OPEN,
        target=S.INVESTIGATING,
        permission=CHANGE_ISSUE,
        custom={"label": "Start investigating"},
    )
    @transition(
        field=status,
        source=S.IN_PROGRESS,
        target=S.INVESTIGATING,
        permission=CHANGE_ISSUE,
        custom={"label": "Back to investigating"},
    )
    @transition(
        field=status,
        source=S.ESCALATED,
        target=S.INVESTIGATING,
        permission=HANDLE_ESCALATED,
        custom={"label": "De-escalate: investigate"},
    )
    def investigate(self) -> None:
        """Gather information."""

    @transition(
        field=status,
        source=S.INVESTIGATING,
        target=S.IN_PROGRESS,
        permission=CHANGE_ISSUE,
        custom={"label": "Start resolving"},
    )
    @transition(
        field=status,
        source=S.RESOLVED,
        target=S.IN_PROGRESS,
        permission=CHANGE_ISSUE,
        custom={"label": "Back to in progress"},
    )
    @transition(
        field=status,
        source=S.ESCALATED,
        target=S.IN_PROGRESS,
        permission=HANDLE_ESCALATED,
        custom={"label": "De-escalate: in progress"},
    )
    def start_work(self) -> None:
        """Active resolution work."""
        self.resolved_at = None

    @transition(
        field=status, source=S.IN_PROGRESS, target=S.RESOLVED, permission=CHANGE_ISSUE, custom={"label": "Resolve"}
    )
    @transition(
        field=status,
        source=S.ESCALATED,
        target=S.RESOLVED,
        permission=HANDLE_ESCALATED,
        custom={"label": "Resolve (escalated)"},
    )
    def resolve(self) -> None:
        """Resolved; waiting for confirmation."""
        self.resolved_at = timezone.now()

    @transition(field=status, source=S.RESOLVED, target=S.CLOSED, permission=CLOSE_ISSUE, custom={"label": "Close"})
    def close(self) -> None:
        """Fully resolved and confirmed."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[S.OPEN, S.INVESTIGATING, S.IN_PROGRESS, S.RESOLVED],
        target=S.ESCALATED,
        permission=CHANGE_ISSUE,
        custom={"label": "Escalate", "approval_permission": ESCALATE_ISSUE, "approval_kind": "escalation"},
    )
    def escalate(self) -> None:
        """Hand the issue to a higher authority."""


class NoteKind(models.TextChoices):
    INTERNAL = "internal", "Internal"
    CUSTOMER_CONTACT = "customer_contact", "Customer contact"


class NoteChannel(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    OTHER = "other", "Other"


class IssueNote(models.Model):
    """One entry of an issue's communication log. Append-only: a note is never changed."""

    issue = models.ForeignKey(OrderIssue, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=NoteKind.choices, default=NoteKind.INTERNAL)
    channel = models.CharField(max_length=10, choices=NoteChannel.choices, default=NoteChannel.API)
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.issue_id} note {self.pk}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Issue notes are append-only")
        super().save(*args, **kwargs)


class ApprovalKind(models.TextChoices):
    ESCALATION = "escalation", "Escalation"
    REOPEN = "reopen", "Reopening"
    APPEASEMENT = "appeasement", "Appeasement over policy"
    REFUND = "refund", "Refund over limit"


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


def can_decide(request: ApprovalRequest, user) -> bool:
    """Four eyes: a manager with their own credential, never one who asked for it or made what it decides."""
    return bool(user.has_perm(DECIDE_APPROVAL) and user.pk not in request.involved_pks())


def can_cancel(request: ApprovalRequest, user) -> bool:
    return bool(user.pk == request.requested_by_id or user.has_perm(DECIDE_APPROVAL))


class ApprovalRequest(ConcurrentTransitionMixin, models.Model):
    """A request for a manager's decision. Generic: ``target_type``/``target_id`` name what it is about;
    ``issue`` is set for issue requests (escalation, reopening), ``payload`` holds kind-specific data."""

    approval_id = models.CharField(max_length=40, unique=True, default=new_approval_id, editable=False)
    kind = models.CharField(max_length=24, choices=ApprovalKind.choices, db_index=True)
    issue = models.ForeignKey(
        OrderIssue, on_delete=models.CASCADE, null=True, blank=True, related_name="approval_requests"
    )
    target_type = models.CharField(max_length=24)
    target_id = models.CharField(max_length=64, db_index=True)
    requested_status = models.CharField(max_length=24, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    reason = models.TextField(max_length=2000, blank=True)
    state = FSMField(max_length=12, choices=ApprovalState.choices, default=ApprovalState.PENDING, protected=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    involved = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Pks of the other employees who made what is decided (an appeasement's creator and agent): "
        "like the requester, none of them may decide it.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_approvalrequest", "Can approve or reject requests")]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "kind"],
                condition=Q(state="pending"),
                name="approval_one_pending_per_target_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.approval_id} {self.kind} {self.target_id} ({self.state})"

    def asked_amount(self) -> str:
        """The money it asks for, with its currency ("30.00 USD"); "" when it asks for none."""
        amount = (self.payload or {}).get("amount")
        return f"{amount} {(self.payload or {}).get('currency', '')}".strip() if amount else ""

    def involved_pks(self) -> set[int]:
        """Who may never decide this request: its requester and whoever made what it is about."""
        return {self.requested_by_id, *self.involved}

    @transition(
        field=state,
        source=ApprovalState.PENDING,
        target=ApprovalState.APPROVED,
        permission=can_decide,
        custom={"label": "Approve"},
    )
    def approve(self, *, by, note: str = "") -> None:
        self.decided_by, self.decision_note, self.decided_at = by, note, timezone.now()

    @transition(
        field=state,
        source=ApprovalState.PENDING,
        target=ApprovalState.REJECTED,
        permission=can_decide,
        custom={"label": "Reject"},
    )
    def reject(self, *, by, note: str = "") -> None:
        self.decided_by, self.decision_note, self.decided_at = by, note, timezone.now()

    @transition(
        field=state,
        source=ApprovalState.PENDING,
        target=ApprovalState.CANCELLED,
        permission=can_cancel,
        custom={"label": "Cancel request", "admin": False},
    )
    def cancel(self, *, by, note: str = "") -> None:
        self.decided_by, self.decision_note, self.decided_at = by, note, timezone.now()


class NotificationKind(models.TextChoices):
    CRITICAL_ISSUE = "critical_issue", "Critical priority"
    ASSIGNED = "assigned", "Assigned to you"
    ESCALATION_REQUESTED = "escalation_requested", "Escalation requested"
    REOPEN_REQUESTED = "reopen_requested", "Reopening requested"
    REFUND_REQUESTED = "refund_requested", "Refund over limit: approval requested"
    REQUEST_APPROVED = "request_approved", "Request approved"
    REQUEST_REJECTED = "request_rejected", "Request rejected"
    ISSUE_RESOLVED = "issue_resolved", "Issue resolved"
    ISSUE_CLOSED = "issue_closed", "Issue closed"
    FOLLOW_UP_DUE = "follow_up_due", "Follow-up due"
    APPEASEMENT_REQUESTED = "appeasement_requested", "Appeasement approval requested"
    APPEASEMENT_SUBMITTED = "appeasement_submitted", "Appeasement submitted"
    CUSTOMER_APPEASEMENT = "customer_appeasement", "Goodwill credit (to the customer)"
    REFUND_FAILED = "refund_failed", "Refund failed at the processor"


class Notification(models.Model):
    """One message to one employee (``recipient``) or to a customer (``recipient_email``); emailed by a
    background task after the write commits."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    recipient_email = models.EmailField(blank=True, help_text="A customer's address, for customer-facing messages.")
    kind = models.CharField(max_length=24, choices=NotificationKind.choices, db_index=True)
    issue = models.ForeignKey(OrderIssue, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    approval = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=500)
    follow_up_for = models.DateTimeField(null=True, blank=True, help_text="The follow-up date a reminder is for.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "issue", "follow_up_for"],
                condition=Q(kind="follow_up_due"),
                name="notification_one_reminder_per_follow_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.recipient_id or self.recipient_email}"


class IssueMetricsRollup(models.Model):
    """Derived data for :func:`issues.selectors.issue_metrics` on PostgreSQL: per UTC day an issue was created,
    how many issues (``n``) count under ``metric``/``key`` (status, priority, type, satisfaction, resolved,
    SLA outcome class, affected SKU or category, and refunds by source and currency with their ``amount``).
    Kept by database triggers on every write (services, bulk paths, ``QuerySet.update``), which append to
    :class:`IssueMetricsDelta`; compaction folds those in here; see issues/metrics.py.
    Rebuilt from scratch by ``manage.py issue_metrics_rebuild``."""

    day = models.DateField()
    metric = models.CharField(max_length=16)
    key = models.CharField(max_length=255)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "metric", "key"], name="issue_metrics_rollup_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}={self.key}: {self.n}"


class IssueMetricsDelta(models.Model):
    """What the triggers append on every write: signed changes to :class:`IssueMetricsRollup`'s counts (one row
    per statement and (day, metric, key), no unique key, never updated, so that no two writers ever wait on one
    counter row). The metrics read the rollup plus these; ``manage.py issue_metrics_compact`` folds them into the
    rollup (issues/metrics.py)."""

    day = models.DateField()
    metric = models.CharField(max_length=16)
    key = models.CharField(max_length=255)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.metric}={self.key}: {self.n:+d}"


class IssueMetricsCustomerDelta(models.Model):
    """Signed changes to :class:`IssueMetricsCustomer`, appended by the triggers, folded in by compaction."""

    email = models.CharField(max_length=254)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.email}: {self.n:+d}"


class IssueMetricsCustomer(models.Model):
    """Derived data: issues per customer e-mail over all time (an upper bound for any date range), kept by
    triggers beside :class:`IssueMetricsRollup`."""

    email = models.CharField(max_length=254, primary_key=True)
    n = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["-n", "email"], name="issue_metrics_customer_n_idx")]

    def __str__(self) -> str:
        return f"{self.email}: {self.n}"
