"""Orders, their items, payments and shipments, and the refund ledger."""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import FSMField, transition

from config.fsm import ConcurrentTransitionMixin
from config.history import HistoricalRecords
from config.permissions import ROLE_CHOICES
from orders.ids import new_order_id, new_refund_id

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}


def default_account() -> str:
    return settings.DEFAULT_ACCOUNT_ID


def new_object_id() -> str:
    """24 hex characters, generated once per row: the shape of the fabric API's ``_id``/``id`` (a Mongo ObjectId)."""
    return secrets.token_hex(12)


LIST_MAX = 100  # most entries in a free-form list (tags, events, attributes) and promotions per item or ship-to


class PhoneKind(models.TextChoices):
    """``customerPhone.kind`` / ``address.phone.kind`` of the fabric order (the fabric contract: ``mobile``)."""

    MOBILE = "mobile", "Mobile"
    HOME = "home", "Home"
    WORK = "work", "Work"
    OTHER = "other", "Other"


class WeightUnit(models.TextChoices):
    LB = "lb", "Pounds"
    OZ = "oz", "Ounces"
    KG = "kg", "Kilograms"
    G = "g", "Grams"


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="Case-sensitive, unique.")
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    RETURNED = "returned", "Returned"


MODIFIABLE_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
RETURNABLE_ORDER_STATUSES = (OrderStatus.COMPLETED, OrderStatus.PARTIALLY_RETURNED)


def not_shipped(order: Order) -> bool:
    """The cancel transition's condition: nothing of the order has left the warehouse (every cancel route, the
    back-office status ``PATCH``, the fabric cancel and the admin button, asks it; cancelling refunds the order)."""
    return not order.has_shipped()


class Order(ConcurrentTransitionMixin, models.Model):
    order_id = models.CharField(max_length=40, unique=True, default=new_order_id, editable=False)
    account = models.CharField(max_length=24, default=default_account, db_index=True)
    channel = models.PositiveIntegerField(default=12)
    status = FSMField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.PENDING, protected=True)
    currency = models.CharField(max_length=3, default="USD")

    customer_id = models.CharField(max_length=64, blank=True)
    customer_first_name = models.CharField(max_length=100, blank=True)
    customer_last_name = models.CharField(max_length=100, blank=True)
    customer_email = models.EmailField(blank=True, db_index=True)
    customer_phone = models.CharField(max_length=32, blank=True, db_index=True)

    ship_to_street1 = models.CharField(max_length=200, blank=True)
    ship_to_street2 = models.CharField(max_length=200, blank=True)
    ship_to_city = models.CharField(max_length=100, blank=True)
    ship_to_state = models.CharField(max_length=100, blank=True)
    ship_to_zip_code = models.CharField(max_length=20, blank=True)
    ship_to_country = models.CharField(max_length=60, blank=True)

    # The fabric order, whole (docs/api/fabric.md). The order is one fabric document: ``object_id`` is its ``_id``.
    object_id = models.CharField(
        max_length=24,
        unique=True,
        default=new_object_id,
        editable=False,
        help_text="The fabric API's _id: 24 hex characters, generated once.",
    )
    customer_middle_name = models.CharField(max_length=100, blank=True)
    customer_phone_kind = models.CharField(max_length=16, choices=PhoneKind.choices, blank=True)
    # The ship-to group (the fabric ``shipTo[0]``): our orders ship to one address, priced and taxed here.
    ship_to_object_id = models.CharField(
        max_length=24, default=new_object_id, editable=False, help_text="The ship-to's fabric _id."
    )
    ship_to_is_validated = models.BooleanField(default=False, help_text="The address was validated.")
    ship_to_price = models.DecimalField(
        **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)], help_text="Shipping price, before tax."
    )
    ship_to_estimated_tax = models.DecimalField(
        **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)], help_text="Tax on shipping (in the totals)."
    )
    ship_to_committed_tax = models.DecimalField(
        **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)], help_text="Tax on shipping committed (invoiced)."
    )
    ship_to_tax_code = models.CharField(max_length=20, blank=True)
    ship_to_carrier = models.CharField(max_length=60, blank=True, help_text="The carrier the customer chose.")
    ship_to_method = models.CharField(max_length=60, blank=True, help_text="Shipping method, e.g. Express.")
    ship_to_method_id = models.CharField(max_length=40, blank=True)
    ship_to_promised_delivery_date = models.DateTimeField(null=True, blank=True)
    ship_to_instructions = models.TextField(max_length=500, blank=True, help_text="Delivery instructions.")
    # Genuinely free-form lists: the fabric contract types their entries as <any> (labels, event records and
    # key/value attributes of other systems), so they are kept as given, bounded to LIST_MAX entries.
    tags = models.JSONField(default=list, blank=True, help_text="Free-form labels (at most 100).")
    events = models.JSONField(default=list, blank=True, help_text="Free-form event records (at most 100).")
    attributes = models.JSONField(default=list, blank=True, help_text="Free-form attributes (at most 100).")

    subtotal = models.DecimalField(**MONEY, default=ZERO, editable=False)
    tax_total = models.DecimalField(**MONEY, default=ZERO, editable=False)
    order_total = models.DecimalField(**MONEY, default=ZERO, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("act_on_behalf", "Can act on behalf of other employees (service accounts)")]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
            models.Index(fields=["account", "channel"], name="order_account_channel_idx"),
            # The admin's channel filter walks it from one channel to the next (DistinctValuesFilter).
            models.Index(fields=["channel"], name="order_channel_idx"),
            # Performance at scale (docs/performance.md): the admin's exact search is case-insensitive
            # (UPPER(col) = UPPER(%s)).
            models.Index(Upper("order_id"), name="order_order_id_upper_idx"),
            models.Index(Upper("customer_email"), name="order_email_upper_idx"),
            models.Index(Upper("customer_phone"), name="order_phone_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.order_id

    @property
    def customer_name(self) -> str:
        return f"{self.customer_first_name} {self.customer_last_name}".strip()

    @property
    def is_modifiable(self) -> bool:
        return self.status in MODIFIABLE_ORDER_STATUSES

    # --- workflow: the allowed moves live here and only here ---
    @transition(
        field=status,
        source=OrderStatus.PENDING,
        target=OrderStatus.ACCEPTED,
        permission="orders.change_order",
        custom={"label": "Accept"},
    )
    def accept(self) -> None:
        """Accept the order for fulfilment."""

    @transition(
        field=status,
        source=OrderStatus.ACCEPTED,
        target=OrderStatus.IN_PROGRESS,
        permission="orders.change_order",
        custom={"label": "Start fulfilment"},
    )
    def start(self) -> None:
        """Fulfilment has started."""

    @transition(
        field=status,
        source=OrderStatus.IN_PROGRESS,
        target=OrderStatus.COMPLETED,
        permission="orders.change_order",
        custom={"label": "Complete"},
    )
    def complete(self) -> None:
        """The order was delivered."""

    @transition(
        field=status,
        source=list(MODIFIABLE_ORDER_STATUSES),
        target=OrderStatus.CANCELED,
        permission="orders.change_order",
        conditions=[not_shipped],
        custom={"label": "Cancel"},
    )
    def cancel(self) -> None:
        """The order is canceled before completion, and before anything of it shipped."""

    def has_shipped(self) -> bool:
        """Whether a shipment of the order left the warehouse (shipped, in transit or delivered, or with a shipped
        date)."""
        return self.shipments.filter(
            models.Q(status__in=SHIPPED_SHIPMENT_STATUSES) | models.Q(shipped_date__isnull=False)
        ).exists()

    # Returns (docs/api/fabric.md): only ``returns.services`` calls these, after recording the Return.
    @transition(
        field=status,
        source=list(RETURNABLE_ORDER_STATUSES),
        target=OrderStatus.PARTIALLY_RETURNED,
        permission="returns.add_return",
        custom={"label": "Return partially", "admin": False},
    )
    def return_partially(self) -> None:
        """Some items came back; others are still with the customer."""

    @transition(
        field=status,
        source=list(RETURNABLE_ORDER_STATUSES),
        target=OrderStatus.RETURNED,
        permission="returns.add_return",
        custom={"label": "Return fully", "admin": False},
    )
    def return_fully(self) -> None:
        """Everything that was bought has been returned."""


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    order_item_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    line_number = models.PositiveIntegerField(editable=False)
    sku = models.CharField(max_length=64, db_index=True)
    item_id = models.CharField(max_length=64, blank=True)
    store_item_name = models.CharField(max_length=200)
    store_item_description = models.TextField(max_length=1000, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    store_item_size = models.CharField(max_length=50, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY, default=ZERO)
    tax = models.DecimalField(**MONEY, default=ZERO)
    special_instructions = models.TextField(max_length=500, blank=True)
    preparation_notes = models.TextField(max_length=1000, blank=True)
    # The fabric order (docs/api/fabric.md): the item's fabric data.
    item_group = models.CharField(
        max_length=100, blank=True, help_text="The item's fabric group, besides its category (e.g. Group1)."
    )
    tax_code = models.CharField(max_length=20, blank=True)
    weight = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    weight_unit = models.CharField(max_length=2, choices=WeightUnit.choices, blank=True)
    reserved_location = models.CharField(
        max_length=64, blank=True, help_text="The location whose stock is reserved for this line."
    )
    # Free-form like the order's (the contract types them <any>): kept as given, at most LIST_MAX entries.
    attributes = models.JSONField(default=list, blank=True, help_text="Free-form attributes (at most 100).")
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="orderitem_unique_line"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_number} {self.store_item_name}"

    @property
    def line_subtotal(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount

    @property
    def line_total(self) -> Decimal:
        return self.line_subtotal + self.tax


class PaymentStatus(models.TextChoices):
    AUTHORIZED = "authorized", "Authorized"
    CAPTURED = "captured", "Captured"
    FAILED = "failed", "Failed"
    VOIDED = "voided", "Voided"


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    payment_group_id = models.CharField(max_length=64)
    payment_method = models.CharField(max_length=40)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CAPTURED)
    # The fabric order (docs/api/fabric.md): the payment's fabric data.
    payment_kind = models.CharField(max_length=40, blank=True, help_text="e.g. Default payment")
    card_last_four = models.CharField(max_length=4, blank=True, help_text="The card's last four digits.")
    token_reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="The payment processor's token for this payment (a reference, never a card).",
    )
    conversion_rate = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text="Currency conversion rate applied to the payment (1: none).",
    )
    # The billing address of this payment (``billToAddress``); empty when the payment has none.
    bill_to_first_name = models.CharField(max_length=100, blank=True)
    bill_to_middle_name = models.CharField(max_length=100, blank=True)
    bill_to_last_name = models.CharField(max_length=100, blank=True)
    bill_to_email = models.EmailField(blank=True)
    bill_to_phone = models.CharField(max_length=32, blank=True)
    bill_to_phone_kind = models.CharField(max_length=16, choices=PhoneKind.choices, blank=True)
    bill_to_street1 = models.CharField(max_length=200, blank=True)
    bill_to_street2 = models.CharField(max_length=200, blank=True)
    bill_to_city = models.CharField(max_length=100, blank=True)
    bill_to_state = models.CharField(max_length=100, blank=True)
    bill_to_zip_code = models.CharField(max_length=20, blank=True)
    bill_to_country = models.CharField(max_length=60, blank=True)
    bill_to_is_validated = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "payment_group_id"], name="payment_unique_group_per_order"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_group_id} {self.payment_method} {self.amount} {self.currency}"


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SHIPPED = "shipped", "Shipped"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    RETURNED = "returned", "Returned"


SHIPPED_SHIPMENT_STATUSES = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED)


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=60)
    tracking_number = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    shipped_date = models.DateTimeField(null=True, blank=True)
    # The fabric order (docs/api/fabric.md).
    object_id = models.CharField(
        max_length=24, default=new_object_id, editable=False, help_text="The shipment's fabric _id."
    )
    carrier_url = models.URLField(max_length=500, blank=True, help_text="The carrier's tracking page.")
    delivered_date = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}".strip()


class ShipmentLine(models.Model):
    """What a shipment carried: a quantity of one of its order's items (the fabric ``shipments[].lineItems``)."""

    # indexed by the unique constraint below (shipment first)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines", db_index=False)
    order_item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    object_id = models.CharField(max_length=24, default=new_object_id, editable=False, help_text="Its fabric _id.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["shipment_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_item"], name="shipmentline_unique_item"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipmentline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.quantity} x {self.order_item_id}"


class Promotion(models.Model):
    """A promotion applied to an order: to one of its items, or (no item) to its ship-to, i.e. its shipping.

    The fabric ``items[].promosApplied`` and ``shipTo[].promosApplied`` (``{"name": ...}``).
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="promotions")
    order_item = models.ForeignKey(
        OrderItem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="promotions",
        help_text="Empty: the promotion applies to the shipping (the ship-to).",
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return self.name


class RefundSource(models.TextChoices):
    MERCHANT = "merchant", "Merchant"
    PLATFORM = "platform", "Platform"
    INSURANCE = "insurance", "Insurance"
    STORE_CREDIT = "store_credit", "Store credit"


class RefundCause(models.TextChoices):
    NONE = "none", "None"
    ISSUE = "issue", "Order issue"
    APPEASEMENT = "appeasement", "Appeasement"
    RETURN = "return", "Return"
    CANCELLATION = "cancellation", "Order cancellation"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Refund(ConcurrentTransitionMixin, models.Model):
    """One movement of money back to the customer. Created only by ``orders.services.refund_record``."""

    refund_id = models.CharField(max_length=40, unique=True, default=new_refund_id, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=16, choices=RefundSource.choices)
    cause_type = models.CharField(max_length=16, choices=RefundCause.choices, default=RefundCause.NONE)
    cause_id = models.CharField(max_length=64, blank=True, help_text="Public id of the issue, appeasement or return")
    reason = models.CharField(max_length=255, blank=True)
    status = FSMField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING, protected=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # nothing reads by it; the foreign key is enough
        help_text="The manager who approved it over the requester's refund limit (empty: within their own limit).",
    )
    external_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)  # indexed below, with the status
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["cause_type", "cause_id"], name="refund_cause_idx"),
            models.Index(fields=["order", "status"], name="refund_order_status_idx"),
            # the stuck-refund sweep and the on-call gauges read only the unsettled refunds, oldest first
            models.Index(
                fields=["updated_at"],
                name="refund_unsettled_idx",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
            # newest first in the lists; with the status, the gauge of refunds settled in the last day is counted
            # from the index alone (desk/metrics.py)
            models.Index(fields=["created_at"], include=["status"], name="refund_created_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount} {self.currency} ({self.status})"

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.PROCESSING)
    def start_processing(self) -> None:
        pass

    @transition(field=status, source=[RefundStatus.PENDING, RefundStatus.PROCESSING], target=RefundStatus.COMPLETED)
    def mark_completed(self, *, external_reference: str = "") -> None:
        self.external_reference = external_reference
        self.processed_at = timezone.now()

    @transition(field=status, source=[RefundStatus.PENDING, RefundStatus.PROCESSING], target=RefundStatus.FAILED)
    def mark_failed(self, *, reason: str = "") -> None:
        self.failure_reason = reason[:255]
        self.processed_at = timezone.now()


class RefundLimit(models.Model):
    """The most an employee may refund on one order on their own authority, all money paths together.

    One row per employee (a personal limit) or per role (the default for everyone in it without a personal one).
    Issue refunds, order refunds, appeasements and return refunds count against it, cumulatively per employee and
    order; over it, the refund becomes a request that another manager approves. No row for the employee or their
    role: refunds are bounded only by what is still refundable. The rules are in ``orders.refund_policy``.
    """

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_limit",
        help_text="A personal limit: this employee's, whatever their role.",
    )
    role = models.CharField(
        max_length=16, choices=ROLE_CHOICES, blank=True, help_text="A role's limit: for its employees without one."
    )
    limit = models.DecimalField(
        **MONEY,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="Per order, in the order's currency, over every refund the employee made on their own authority.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "employee__username"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(employee__isnull=False) & models.Q(role=""))
                | (models.Q(employee__isnull=True) & ~models.Q(role="")),
                name="refund_limit_employee_or_role",
                violation_error_message="A limit is either an employee's or a role's: set one of them, not both.",
            ),
            models.UniqueConstraint(
                fields=["role"],
                condition=~models.Q(role=""),
                name="refund_limit_one_per_role",
                violation_error_message="This role has a limit already: change that one.",
            ),
            models.CheckConstraint(
                condition=models.Q(limit__gte=0),
                name="refund_limit_not_negative",
                violation_error_message="A limit cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        who = self.employee.get_username() if self.employee_id else f"every {self.get_role_display().lower()}"
        return f"{who}: {self.limit} per order"
