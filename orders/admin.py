"""Orders in the admin. Every write goes through orders.services; refunds are never edited here."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from config.admin_history import ChangeReasonAdminMixin
from config.admin_mixins import (
    DistinctValuesFilter,
    GrowingTableAdmin,
    OnceForm,
    ReadOnlyInline,
    ServiceFSMAdminMixin,
    SimpleHistoryAdmin,
    once_per_object,
)
from config.errors import DomainError
from config.people import employee_role
from orders import ledger, refund_policy, selectors, services
from orders.models import (
    Category,
    Order,
    OrderItem,
    Payment,
    Refund,
    RefundLimit,
    RefundSource,
    Shipment,
)
from orders.validators import validate_no_html


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = (
        "line_number",
        "sku",
        "store_item_name",
        "category",
        "store_item_size",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "special_instructions",
    )
    readonly_fields = fields
    ordering = ("line_number",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("payment_group_id", "payment_method", "amount", "currency", "status")
    readonly_fields = fields
    show_change_link = False


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "tracking_number", "status", "shipped_date")
    readonly_fields = fields
    show_change_link = False


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = (
        "refund_id",
        "amount",
        "currency",
        "source",
        "status",
        "cause_type",
        "cause_id",
        "requested_by",
        "failure_reason",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")


class RefundForm(OnceForm):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    source = forms.ChoiceField(choices=RefundSource.choices)
    reason = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(Order)
class OrderAdmin(GrowingTableAdmin, ServiceFSMAdminMixin, SimpleHistoryAdmin):
    fsm_fields = ["status"]
    # The key columns fit 1280 px (docs/admin.md): the order is its id over its day and channel, the customer a name
    # over the e-mail and phone, the total with its currency; no sideways scroll, nothing read per row.
    list_display = ("order", "customer", "status", "total")
    list_display_links = ("order",)
    list_filter = ("status", ("channel", DistinctValuesFilter), "created_at")  # channel: order_channel_idx
    search_fields = ("=order_id", "=customer_email", "=customer_phone")
    search_help_text = "Exact order id, customer email or phone"
    list_per_page = 50
    # the order's own rows; desk.admin adds its issues, appeasements and returns (and the refund form)
    inlines = [OrderItemInline, PaymentInline, RefundInline, ShipmentInline]
    readonly_fields = (
        "order_id",
        "account",
        "channel",
        "status",
        "currency",
        "customer_id",
        "customer_first_name",
        "customer_last_name",
        "customer_email",
        "customer_phone",
        "ship_to_street1",
        "ship_to_street2",
        "ship_to_city",
        "ship_to_state",
        "ship_to_zip_code",
        "ship_to_country",
        "subtotal",
        "tax_total",
        "order_total",
        "money_summary",
        "revision",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("order_id", "status", "account", "channel", "currency", "revision")}),
        (
            "Customer",
            {
                "fields": (
                    "customer_id",
                    ("customer_first_name", "customer_last_name"),
                    "customer_email",
                    "customer_phone",
                )
            },
        ),
        (
            "Ship to",
            {
                "fields": (
                    "ship_to_street1",
                    "ship_to_street2",
                    ("ship_to_city", "ship_to_state"),
                    ("ship_to_zip_code", "ship_to_country"),
                )
            },
        ),
        ("Money", {"fields": (("subtotal", "tax_total", "order_total"), "money_summary")}),
        ("Times", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="Order", ordering="order_id")
    def order(self, obj: Order):
        return format_html(
            '<span class="nowrap">{}</span><br><span class="bo-quiet nowrap">{} · channel {}</span>',
            obj.order_id,
            f"{timezone.localtime(obj.created_at):%Y-%m-%d}",
            obj.channel,
        )

    @admin.display(description="Customer", ordering="customer_last_name")
    def customer(self, obj: Order):
        reach = " · ".join(part for part in (obj.customer_email, obj.customer_phone) if part)
        return format_html('<span>{}<br><span class="bo-quiet">{}</span></span>', obj.customer_name or "—", reach)

    @admin.display(description="Total", ordering="order_total")
    def total(self, obj: Order):
        return format_html('<span class="nowrap">{} {}</span>', obj.order_total, obj.currency)

    @admin.display(description="Refunds")
    @once_per_object
    def money_summary(self, obj: Order):
        money = ledger.order_money(obj)
        url = reverse("admin:orders_order_refund", args=[obj.pk])
        return_url = reverse("admin:returns_return_record", args=[obj.pk])
        return format_html(
            "Paid {} {} · refunded {} · refundable {} &nbsp; <a class='bo-button' href='{}'>Record a refund</a>"
            " <a class='bo-button' href='{}'>Record a return</a>",
            money.paid,
            obj.currency,
            money.refunded,
            money.refundable,
            url,
            return_url,
        )

    def has_add_permission(self, request) -> bool:
        return False  # orders arrive from the storefront through the API

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Every field is read-only: the only writes are transitions and refunds, both through services.
        return

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:  # read-only inlines: nothing to save, but the change message reads these
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # the service writes the history row with its own reason; no admin LogEntry noise

    def apply_transition(self, request, obj, transition_name, form_data):
        order = services.order_transition(
            order=obj, actor=request.user, transition=transition_name, reason=f"Admin: {transition_name}"
        )
        refunds = selectors.cancellation_refunds(order) if transition_name == "cancel" else []
        if refunds:
            total = sum((r.amount for r in refunds), Decimal("0"))
            messages.info(
                request,
                f"Cancelling gave back {total} {order.currency} to the customer's payments "
                f"({', '.join(r.refund_id for r in refunds)}); the refunds are shown below.",
            )


def refund_limit_context(order: Order, employee) -> dict:
    """What a refund form shows of the employee's refund limit on the order (None: no limit)."""
    limit = refund_policy.refund_limit(employee)
    return {"refund_limit": limit, "limit_left": refund_policy.limit_left(order, employee, limit)}


def refund_outcome(done) -> str:
    """The admin message for ``refund_or_request``'s answer: the refund recorded, or the request that holds it."""
    if isinstance(done, Refund):
        return f"Refund {done.refund_id} of {done.amount} {done.currency} recorded."
    return (
        f"Refund of {done.payload['amount']} {done.payload['currency']} is over your refund limit: request "
        f"{done.approval_id} waits for a manager's approval (nothing was refunded yet)."
    )


class OrderItemForm(forms.ModelForm):
    class Meta:
        model = OrderItem
        fields = (
            "store_item_name",
            "store_item_description",
            "category",
            "store_item_size",
            "special_instructions",
            "preparation_notes",
        )
        widgets = {
            "special_instructions": forms.Textarea(attrs={"rows": 3}),
            "preparation_notes": forms.Textarea(attrs={"rows": 3}),
            "store_item_description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].required = True
        self.fields["special_instructions"].validators.append(validate_no_html)


@admin.register(OrderItem)
class OrderItemAdmin(GrowingTableAdmin, SimpleHistoryAdmin):
    form = OrderItemForm
    list_display = ("order", "line_number", "sku", "store_item_name", "category", "quantity", "unit_price")
    list_select_related = ("order", "category")
    search_fields = ("=order__order_id", "=sku")
    readonly_fields = (
        "order",
        "order_item_id",
        "line_number",
        "sku",
        "item_id",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "revision",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        field_map = {"category": "store_item_category"}
        changes = {}
        for name in form.changed_data:
            value = form.cleaned_data[name]
            changes[field_map.get(name, name)] = value.name if name == "category" and value else value
        if not changes:
            return
        try:
            services.order_item_update(
                order_id=obj.order.order_id, order_item_id=str(obj.order_item_id), actor=request.user, changes=changes
            )
        except DomainError as err:
            request._service_error = err
            detail = "; ".join(f"{e['field']}: {e['error']}" for e in err.extra.get("validation_errors", []))
            self.message_user(request, f"Not saved: {err.message}{' — ' + detail if detail else ''}", messages.ERROR)

    def save_related(self, request, form, formsets, change) -> None:
        return

    def response_change(self, request, obj):
        if getattr(request, "_service_error", None):
            return redirect(request.path)
        return super().response_change(request, obj)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "description")


@admin.register(Category)
class CategoryAdmin(SimpleHistoryAdmin):
    form = CategoryForm
    list_display = ("name", "description", "item_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_item_count=Count("items"))

    @admin.display(description="Items", ordering="_item_count")
    def item_count(self, obj) -> int:
        return obj._item_count

    def get_readonly_fields(self, request, obj=None):
        return ("name",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        try:
            if change:
                saved = services.category_update(
                    actor=request.user, category=obj, description=form.cleaned_data["description"]
                )
            else:
                saved = services.category_create(
                    actor=request.user, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
                )
            obj.pk = saved.pk
        except DomainError as err:
            request._service_error = err
            self.message_user(request, f"Not saved: {err.message}", messages.ERROR)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_service_error", None):
            return redirect(request.path)
        return super().response_add(request, obj, post_url_continue)


@admin.register(Refund)
class RefundAdmin(GrowingTableAdmin, SimpleHistoryAdmin):
    """Read-only: money moves only through orders.services.refund_record."""

    list_display = (
        "refund_id",
        "order",
        "amount",
        "currency",
        "source",
        "status",
        "cause_type",
        "cause_id",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "source", "cause_type", "created_at")
    list_select_related = ("order", "requested_by")
    search_fields = ("=refund_id", "=order__order_id", "=cause_id")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RefundLimitForm(forms.ModelForm):
    """A limit for another employee or role: nobody but an administrator sets a limit that would apply to
    themselves (their own, or their role's), as nobody decides their own approval request."""

    class Meta:
        model = RefundLimit
        fields = ("employee", "role", "limit")

    def clean(self):
        data = super().clean()
        user = self.request_user
        if user.is_superuser:
            return data
        if data.get("employee") is not None and data["employee"].pk == user.pk:
            raise forms.ValidationError("Your own limit is set by another manager or an administrator.")
        if data.get("role") and data["role"] == employee_role(user):
            raise forms.ValidationError(
                "Your role's limit applies to you: another manager's role or an administrator sets it."
            )
        return data


@admin.register(RefundLimit)
class RefundLimitAdmin(ChangeReasonAdminMixin, SimpleHistoryAdmin):
    """Refund limits per employee and per role (``orders.refund_policy``): kept by managers, with history; a
    limit that applies to the manager themselves is read-only for them."""

    form = RefundLimitForm
    list_display = ("__str__", "employee", "role", "limit")
    list_select_related = ("employee",)
    list_filter = ("role",)
    raw_id_fields = ("employee",)
    search_fields = ("=employee__username",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def _own(self, request, obj) -> bool:
        """The row limits the viewer themselves (an administrator may change any)."""
        if obj is None or request.user.is_superuser:
            return False
        return obj.employee_id == request.user.pk or (bool(obj.role) and obj.role == employee_role(request.user))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not self._own(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not self._own(request, obj)
