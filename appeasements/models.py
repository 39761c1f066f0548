"""Appeasements: goodwill credits to a customer, paid through the refund ledger (docs/api/ccagent.md).

An :class:`Appeasement` is drafted (``INCOMPLETE``), then submitted: within policy it goes straight to
``SUBMITTED`` and its refunds become ledger refunds; over policy it waits in ``PENDING_APPROVAL`` for a
manager (four-eyes) who approves (``SUBMITTED``) or rejects (``REJECTED``). The allowed moves live in the
transition methods below and nowhere else; ``appeasements.services`` is the only code that calls them.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import FSMField, transition

from config.fsm import ConcurrentTransitionMixin
from config.history import HistoricalRecords
from config.ids import new_prefixed_id
from orders.models import MONEY, Order, Payment, Refund, RefundSource

APPROVE_APPEASEMENT = "appeasements.approve_appeasement"
CHANGE_APPEASEMENT = "appeasements.change_appeasement"


def can_change(appeasement: Appeasement, user) -> bool:
    """An appeasement is its agent's: they, or a manager with their own credential, change and submit it."""
    return bool(
        user.has_perm(CHANGE_APPEASEMENT) and (user.pk == appeasement.agent_id or user.has_perm(APPROVE_APPEASEMENT))
    )


def new_appeasement_id() -> str:
    return new_prefixed_id("app")


def new_appeasement_refund_id() -> str:
    return new_prefixed_id("ar")


def new_comment_id() -> int:
    """A numeric comment id as in the seed (``100001``): 12 random digits, safe as a JSON number."""
    return 10**11 + secrets.randbelow(9 * 10**11)


class AppeasementReason(models.Model):
    """A managed reason code (``incorrectItem``) with a readable description."""

    code = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=255)
    active = models.BooleanField(default=True, help_text="Inactive reasons are refused for new appeasements.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.description or self.code  # what people read; the code is the API's


class RefundType(models.Model):
    """A managed appeasement refund type (``creditCard``, ``externalRefund``, ``storeCredit``)."""

    code = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=255)
    requires_payment_group = models.BooleanField(
        default=False, help_text="Refunds of this type name one of the order's payment groups."
    )
    ledger_source = models.CharField(
        max_length=16, choices=RefundSource.choices, help_text="The refund ledger source this type is paid with."
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.description or self.code


class AppeasementState(models.TextChoices):
    INCOMPLETE = "INCOMPLETE", "Incomplete"
    PENDING_APPROVAL = "PENDING_APPROVAL", "Pending approval"
    SUBMITTED = "SUBMITTED", "Submitted"
    REJECTED = "REJECTED", "Rejected"


class AppeasementType(models.TextChoices):
    ORDER = "order", "Order"
    SHIPPING = "shipping", "Shipping"


class AppeasementOrigin(models.TextChoices):
    AGENT = "agent", "Agent"
    EXTERNAL = "external", "External"


class Appeasement(ConcurrentTransitionMixin, models.Model):
    appeasement_id = models.CharField(max_length=40, unique=True, default=new_appeasement_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="appeasements")
    issue = models.ForeignKey(
        "issues.OrderIssue",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeasements",
        help_text="The order issue this appeasement settles, if any.",
    )
    profile_id = models.CharField(max_length=64, help_text="The customer's profile id.")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeasements")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # nothing reads by it; the foreign key is enough
        editable=False,
        help_text="Who created it: like its agent and submitter, never the manager who decides its approval.",
    )
    reason = models.ForeignKey(AppeasementReason, on_delete=models.PROTECT, related_name="appeasements")
    type = models.CharField(max_length=16, choices=AppeasementType.choices, default=AppeasementType.ORDER)
    notes = models.TextField(max_length=4000, blank=True)
    state = FSMField(
        max_length=20, choices=AppeasementState.choices, default=AppeasementState.INCOMPLETE, protected=True
    )
    origin = models.CharField(max_length=16, choices=AppeasementOrigin.choices, default=AppeasementOrigin.AGENT)
    decision_note = models.TextField(max_length=2000, blank=True, help_text="The manager's approval/rejection note.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False, help_text="+1 on every change; the ETag.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_appeasement", "Can approve or reject over-policy appeasements")]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="appeasement_state_created_idx"),
            models.Index(fields=["profile_id"], name="appeasement_profile_idx"),
            # Performance at scale (docs/performance.md): the admin's exact search is case-insensitive
            # (UPPER(col) = UPPER(%s)).
            models.Index(Upper("appeasement_id"), name="appeasement_id_upper_idx"),
            models.Index(Upper("profile_id"), name="appeasement_profile_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.appeasement_id

    # --- workflow: the allowed moves live here and only here ---
    @transition(
        field=state,
        source=AppeasementState.INCOMPLETE,
        target=AppeasementState.SUBMITTED,
        permission=can_change,
        custom={"label": "Submit"},
    )
    def submit(self) -> None:
        """Within policy: the refunds go to the ledger now."""
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=AppeasementState.INCOMPLETE,
        target=AppeasementState.PENDING_APPROVAL,
        permission=can_change,
        custom={"label": "Request approval", "admin": False},
    )
    def request_approval(self) -> None:
        """Over policy: a manager decides."""

    @transition(
        field=state,
        source=AppeasementState.PENDING_APPROVAL,
        target=AppeasementState.SUBMITTED,
        permission=APPROVE_APPEASEMENT,
        custom={"label": "Approve", "form": "appeasements.admin.DecisionForm"},
    )
    def approve(self, *, note: str = "") -> None:
        self.decision_note = note
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=AppeasementState.PENDING_APPROVAL,
        target=AppeasementState.REJECTED,
        permission=APPROVE_APPEASEMENT,
        custom={"label": "Reject", "form": "appeasements.admin.DecisionForm"},
    )
    def reject(self, *, note: str = "") -> None:
        self.decision_note = note


class AppeasementRefundState(models.TextChoices):
    INCOMPLETE = "INCOMPLETE", "Incomplete"
    COMPLETE = "COMPLETE", "Complete"
    FAILED = "FAILED", "Failed"


class AppeasementRefund(models.Model):
    """One payment instrument an appeasement pays to. Its ``state`` follows the ledger refund behind it."""

    refund_id = models.CharField(max_length=40, unique=True, default=new_appeasement_refund_id, editable=False)
    appeasement = models.ForeignKey(Appeasement, on_delete=models.CASCADE, related_name="refunds")
    refund_type = models.ForeignKey(RefundType, on_delete=models.PROTECT, related_name="+")
    payment_group_id = models.CharField(max_length=64, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    currency_code = models.CharField(max_length=3)
    state = models.CharField(
        max_length=12, choices=AppeasementRefundState.choices, default=AppeasementRefundState.INCOMPLETE
    )
    ledger_refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="appeasement_refund"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # the sweep for states left behind the ledger (a lost sync job) reads only the incomplete ones
            models.Index(
                fields=["ledger_refund"],
                name="appeasement_refund_open_idx",
                condition=models.Q(state="INCOMPLETE"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount} {self.currency_code} ({self.state})"


class AppeasementComment(models.Model):
    """An agent's comment. Append-only: never changed or deleted."""

    comment_id = models.PositiveBigIntegerField(unique=True, default=new_comment_id, editable=False)
    appeasement = models.ForeignKey(Appeasement, on_delete=models.CASCADE, related_name="comments")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.comment_id} by {self.agent_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Appeasement comments are append-only")
        super().save(*args, **kwargs)
