"""Returns, return codes and fabric API keys in the admin. Returns are recorded only through returns.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from rest_framework_api_key.admin import APIKeyModelAdmin

from config.admin_history import ChangeReasonAdminMixin
from config.admin_mixins import (
    BadInputAdminMixin,
    GrowingTableAdmin,
    OnceForm,
    ReadOnlyInline,
    SimpleHistoryAdmin,
    cell_html,
    has_control_characters,
    object_or_404,
    printable,
    submit_once,
)
from config.admin_urls import change_url
from config.errors import DomainError
from orders.models import Order, OrderItem
from returns import services
from returns.models import AccountAPIKey, ReasonKind, Return, ReturnChannel, ReturnLine, ReturnReason


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ("order_item", "quantity", "amount")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_item")


@admin.register(Return)
class ReturnAdmin(GrowingTableAdmin, SimpleHistoryAdmin):
    list_display = (
        "return_id",
        "order_link",
        "scope",
        "reason",
        "refund_amount",
        "currency",
        "restock",
        "created_via",
        "created_by_label",
        "created_at",
    )
    list_filter = ("reason", "scope", "created_via", "created_at")
    list_select_related = ("order", "reason")
    list_only = ("return_id", "scope", "refund_amount", "currency", "restock", "created_via", "created_by_label")
    list_only += ("created_at", "order__order_id", "order__status", "reason__code", "reason__description")
    search_fields = ("=return_id", "=order__order_id")
    search_help_text = "Exact return id or order id"
    # like the other growing lists: 50 rows a page, and no date_hierarchy (its month list is a SELECT DISTINCT over
    # every return on each page; the created_at filter narrows by date instead)
    list_per_page = 50
    inlines = [ReturnLineInline]
    readonly_fields = (
        "return_id",
        "order",
        "scope",
        "reason",
        "message",
        "refund_requested",
        "restock",
        "refund_amount",
        "currency",
        "created_via",
        "created_by",
        "created_by_label",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description="Order", ordering="order__order_id")
    def order_link(self, obj: Return):
        return cell_html(
            '<a href="{}" class="text-link">{}</a>', change_url("admin:orders_order_change", obj.order_id), obj.order
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """ "Add return" asks for the order, then shows the record form (the service does the work)."""
        order_id = (request.GET.get("order") or "").strip()
        if order_id:
            # A control character is in no order id (and a NUL is a database error on PostgreSQL): no such order.
            order = None if has_control_characters(order_id) else Order.objects.filter(order_id=order_id).first()
            if order is not None:
                return redirect("admin:returns_return_record", order.pk)
            messages.error(request, f"No order {printable(order_id)}.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Record a return: which order?",
        }
        return TemplateResponse(request, "admin/returns/return/pick_order.html", context)

    def get_urls(self):
        return [
            path(
                "record/<int:order_pk>/",
                self.admin_site.admin_view(self.record_view),
                name="returns_return_record",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, order_pk: int):
        order = object_or_404(Order.objects.all(), order_pk)  # an id past the column: 404, not 500
        if not request.user.has_perm("returns.add_return"):
            messages.error(request, "You do not have permission to record returns.")
            return redirect("admin:orders_order_change", order.pk)
        items = list(OrderItem.objects.filter(order=order).order_by("line_number"))
        returned = services.returned_quantities(order)
        form = RecordReturnForm(request.POST or None, items=items, returned=returned)
        if request.method == "POST" and form.is_valid():

            def write():
                ret = services.order_return_lines(
                    order_id=order.order_id,
                    actor=services.ReturnActor.employee(request.user, via=ReturnChannel.ADMIN),
                    return_code=form.cleaned_data["reason"].code,
                    lines=form.lines(),
                    message=form.cleaned_data["message"],
                    refund=form.cleaned_data["refund"],
                    restock=form.cleaned_data["restock"],
                )
                url = reverse("admin:orders_order_change", args=[order.pk])
                return url, f"Return {ret.return_id} recorded; refunded {ret.refund_amount} {ret.currency}."

            try:
                if (done := submit_once(request, form, write)) is not None:
                    return done
            except DomainError as err:
                form.add_error(None, _describe(err))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "title": f"Record a return on order {order.order_id}",
            "form": form,
        }
        return TemplateResponse(request, "admin/returns/return/record.html", context)


def _describe(err: DomainError) -> str:
    problems = err.extra.get("validation_errors") or []
    if problems:
        return "; ".join(f"{p['field']}: {p['error']}" for p in problems)
    return err.message


class RecordReturnForm(OnceForm):
    reason = forms.ModelChoiceField(
        queryset=ReturnReason.objects.filter(kind=ReasonKind.RETURN, is_active=True), label="Return code"
    )
    message = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    refund = forms.BooleanField(required=False, initial=True, help_text="Refund the lines' share of what was paid")
    restock = forms.BooleanField(required=False)

    def __init__(self, *args, items: list[OrderItem], returned: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            left = item.quantity - returned.get(item.pk, 0)
            self.fields[f"qty_{item.pk}"] = forms.IntegerField(
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                disabled=left == 0,
                label=f"#{item.line_number} {item.store_item_name} ({item.sku})",
                help_text=f"bought {item.quantity}, returnable {left}",
            )

    def lines(self) -> list[services.LineRequest]:
        return [
            services.LineRequest(str(item.order_item_id), self.cleaned_data[f"qty_{item.pk}"])
            for item in self.items
            if self.cleaned_data.get(f"qty_{item.pk}")
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.lines():
            raise forms.ValidationError("Enter a quantity for at least one item.")
        return cleaned


@admin.register(ReturnReason)
class ReturnReasonAdmin(ChangeReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "kind", "description", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "description")
    ordering = ("kind", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "kind") if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: returns point at their code


@admin.register(AccountAPIKey)
class AccountAPIKeyAdmin(BadInputAdminMixin, APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "account")
    list_filter = (*APIKeyModelAdmin.list_filter, "account")
    search_fields = (*APIKeyModelAdmin.search_fields, "account")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "account") if obj is not None else fields
