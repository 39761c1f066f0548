"""Outgoing webhooks: subscriptions, the transactional outbox, and one delivery per (event, subscription).

``OutboxEvent`` is written in the same transaction as the change it describes: it is the truth about
what happened. A dispatcher fans each event out to the matching subscriptions (``Delivery`` rows);
the delivery tasks send them, in event order per (subscription, order), and log every attempt.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.history import HistoricalRecords
from config.ids import new_prefixed_id

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    import base64

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_subscription_id() -> str:
    return new_prefixed_id("whsub_")


def new_event_id() -> str:
    """The ``webhook-id``: Standard Webhooks' ``msg_`` shape, unguessable, constant across retries."""
    return new_prefixed_id("msg_", 12)


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_ITEM_UPDATED = "order_item.updated"
    REFUND_CREATED = "refund.created"
    REFUND_COMPLETED = "refund.completed"  # the processor paid it (store credit: issued at once)
    REFUND_FAILED = "refund.failed"  # the processor refused it: nothing paid, the amount is refundable again
    ISSUE_CREATED = "issue.created"
    ISSUE_STATUS_CHANGED = "issue.status_changed"
    ISSUE_ASSIGNED = "issue.assigned"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"
    APPEASEMENT_CREATED = "appeasement.created"
    APPEASEMENT_SUBMITTED = "appeasement.submitted"
    RETURN_CREATED = "return.created"
    PING = "webhook.test", "Test event (sent from the admin)"


class Subscription(models.Model):
    subscription_id = models.CharField(max_length=40, unique=True, default=new_subscription_id, editable=False)
    url = models.URLField(max_length=500, help_text="HTTPS endpoint; checked again at every delivery.")
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Event types to send; empty: all of them.")
    account = models.CharField(max_length=24, db_index=True, help_text="Only this account's orders are sent.")
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries finally failed in a row (a success resets it)."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
        help_text="The employee or service account it belongs to: a service account sees and changes only its own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["secret", "previous_secret"])

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, now=None) -> list[str]:
        """The current secret, plus the previous one during its grace period after a rotation."""
        now = now or timezone.now()
        found = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            found.append(self.previous_secret)
        return found


class OutboxEvent(models.Model):
    """One thing that happened, written in the transaction that made it happen."""

    # The primary key is the sequence: for one order, events are numbered in commit order
    # (event_emit locks the order row first on PostgreSQL).
    event_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices, db_index=True)
    account = models.CharField(max_length=24, db_index=True)
    order_key = models.CharField(max_length=40, blank=True, db_index=True, help_text="The order's public id.")
    created_at = models.DateTimeField(default=timezone.now)
    body = models.TextField(help_text="The JSON envelope sent, byte for byte, at every attempt.")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When it was fanned out to subscriptions.")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(dispatched_at__isnull=True), name="outbox_undispatched_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(models.Model):
    """One event to one subscription. The stream (subscription, stream_key) is delivered in ``seq`` order."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    stream_key = models.CharField(max_length=60, help_text="The order id (or the event id for events of no order).")
    seq = models.BigIntegerField(help_text="The event's sequence number.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker holds it until then (a crashed worker's lease expires)."
    )
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="delivery_once_per_subscription")]
        indexes = [
            models.Index(fields=["subscription", "stream_key", "seq"], name="delivery_stream_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.event_id} -> {self.subscription.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S} -> {self.status_code or self.error}"
