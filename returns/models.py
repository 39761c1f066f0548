"""Returns (whole-order and line-level), return codes, the order status log and fabric API keys."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from config.history import HistoricalRecords
from config.ids import new_prefixed_id
from orders.models import MONEY, ZERO, Order, OrderItem


def new_return_id() -> str:
    return new_prefixed_id("ret_")


def new_object_id() -> str:
    """24 hex characters, the shape of the fabric API's ``_id``/``id`` values."""
    return secrets.token_hex(12)


class ReasonKind(models.TextChoices):
    RETURN = "return", "Return"
    CANCELLATION = "cancellation", "Cancellation"


class ReturnReason(models.Model):
    """A managed return (or cancellation) code, e.g. ``2001`` "Customer is no longer interested in product"."""

    code = models.CharField(max_length=16, unique=True)
    kind = models.CharField(max_length=16, choices=ReasonKind.choices, default=ReasonKind.RETURN)
    description = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True, help_text="Inactive codes are refused for new returns.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = "return code"

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class ReturnScope(models.TextChoices):
    ORDER = "order", "Whole order"
    LINES = "lines", "Some lines"


class ReturnChannel(models.TextChoices):
    FABRIC_API = "fabric_api", "Fabric API (/api-order/)"
    BACKOFFICE_API = "backoffice_api", "Back-office API (/api/v1/)"
    ADMIN = "admin", "Admin"


class Return(models.Model):
    """Items that came back. Created only by ``returns.services``."""

    return_id = models.CharField(max_length=40, unique=True, default=new_return_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    scope = models.CharField(max_length=8, choices=ReturnScope.choices)
    reason = models.ForeignKey(ReturnReason, on_delete=models.PROTECT, related_name="returns")
    message = models.TextField(max_length=1000, blank=True)
    refund_requested = models.BooleanField(default=False)
    restock = models.BooleanField(default=False)
    refund_amount = models.DecimalField(**MONEY, default=ZERO, help_text="What the ledger refunded for this return.")
    refund_approval_id = models.CharField(
        max_length=40,
        blank=True,
        help_text="The approval request that held its refund over the employee's refund limit (nothing was "
        "refunded until a manager approved it).",
    )
    currency = models.CharField(max_length=3)
    created_via = models.CharField(max_length=16, choices=ReturnChannel.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=100, help_text="The employee ID or the API key's name.")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Belt and braces for the locked status check: an order is returned whole at most once.
            models.UniqueConstraint(fields=["order"], condition=Q(scope="order"), name="return_one_whole_per_order"),
        ]

    def __str__(self) -> str:
        return self.return_id


class ReturnLine(models.Model):
    return_obj = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    amount = models.DecimalField(**MONEY, help_text="The line's share of the order value for this quantity.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["return_obj_id", "order_item__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["return_obj", "order_item"], name="returnline_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.return_obj_id}: {self.quantity} x {self.order_item_id}"


class OrderStatusDescription(models.Model):
    """The fabric ``statusDescriptions`` log of an order: one entry per status change made here."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_descriptions")
    entry_id = models.CharField(max_length=24, unique=True, default=new_object_id, editable=False)
    status = models.CharField(max_length=24, help_text="Our order status after the change.")
    code = models.CharField(max_length=16, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status} {self.code}"


class AccountAPIKey(AbstractAPIKey):
    """A hashed, revocable ``x-api-key`` for the fabric API, bound to one account."""

    account = models.CharField(max_length=24, db_index=True, help_text="The 24-character account it may reach.")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "fabric API key"
        verbose_name_plural = "fabric API keys"
