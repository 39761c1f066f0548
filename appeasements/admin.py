"""Appeasements in the admin: read-only rows, every write (submit, approve, reject) through the services."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from appeasements import approvals, services
from appeasements.models import (
    Appeasement,
    AppeasementComment,
    AppeasementReason,
    AppeasementRefund,
    AppeasementRefundState,
    RefundType,
)
from appeasements.selectors import refund_state
from config.admin_history import ChangeReasonAdminMixin
from config.admin_mixins import (
    GrowingTableAdmin,
    ReadOnlyInline,
    ServiceFSMAdminMixin,
    SimpleHistoryAdmin,
    choice_label,
    has_control_characters,
    once_per_object,
)
from config.errors import DomainError


class DecisionForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why (sent to the agent and kept as a comment on the appeasement).",
    )


class AppeasementRefundInline(ReadOnlyInline):
    model = AppeasementRefund
    fields = (
        "refund_id",
        "refund_type",
        "payment_group_id",
        "amount",
        "currency_code",
        "ledger_state",
        "ledger_refund",
    )
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("refund_type", "ledger_refund")

    @admin.display(description="State")
    def ledger_state(self, obj) -> str:
        state = refund_state(obj)
        return AppeasementRefundState(state).label if state in AppeasementRefundState.values else state


class AppeasementCommentInline(ReadOnlyInline):
    model = AppeasementComment
    fields = ("comment_id", "agent", "comment", "created_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent")


_MONEY = DecimalField(max_digits=14, decimal_places=2)
_refund_total = (
    AppeasementRefund.objects.filter(appeasement=OuterRef("pk"))
    .order_by()
    .values("appeasement")
    .annotate(total=Sum("amount"))
    .values("total")
)
ORDER_ID_SHAPE = re.compile(r"^\d{4}-\d{4}-\d{5}$")


@admin.register(Appeasement)
class AppeasementAdmin(GrowingTableAdmin, ServiceFSMAdminMixin, SimpleHistoryAdmin):
    fsm_fields = ["state"]
    # The key columns fit 1280 px (docs/admin.md): the appeasement is its id over its day and what it is for.
    list_display = ("appeasement", "state", "reason", "order", "amount", "agent")
    list_display_links = ("appeasement",)
    list_filter = ("state", "reason", "type", "origin", "created_at")
    list_select_related = ("reason", "agent", "order")
    search_fields = ("=appeasement_id", "=order__order_id", "=profile_id", "=agent__username")
    search_help_text = "Exact appeasement id, order id, profile id or agent"
    list_per_page = 50
    inlines = [AppeasementRefundInline, AppeasementCommentInline]
    object_select_related = ("order", "issue", "agent", "reason")  # read-only on the change page
    readonly_fields = (
        "appeasement_id",
        "order",
        "issue",
        "profile_id",
        "agent",
        "reason",
        "type",
        "notes",
        "state",
        "origin",
        "decision_note",
        "amount",
        "pending_approval",
        "created_at",
        "updated_at",
        "submitted_at",
    )

    def get_search_results(self, request, queryset, search_term):
        """One term searches by its shape through an index (appeasement id, order id, or profile id / agent):
        the default OR across the appeasement, order and user tables would read every appeasement."""
        term = search_term.strip()
        if not term or term.split()[1:] or has_control_characters(term):  # the last: nothing (BadInputAdminMixin)
            return super().get_search_results(request, queryset, search_term)
        if term.lower().startswith("app"):
            return queryset.filter(appeasement_id__iexact=term), False
        if ORDER_ID_SHAPE.match(term):
            return queryset.filter(order__order_id__iexact=term), False
        agents = list(get_user_model().objects.filter(username__iexact=term).values_list("pk", flat=True))
        return queryset.filter(Q(profile_id__iexact=term) | Q(agent_id__in=agents)), False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # A subquery per shown row, not a GROUP BY over every appeasement before the page's LIMIT.
            .annotate(_amount=Coalesce(Subquery(_refund_total), Value(Decimal("0.00")), output_field=_MONEY))
        )

    @admin.display(description="Appeasement", ordering="appeasement_id")
    def appeasement(self, obj):
        return format_html(
            '<span class="nowrap">{}</span><br><span class="bo-quiet nowrap">{} · for the {}</span>',
            obj.appeasement_id,
            f"{timezone.localtime(obj.created_at):%Y-%m-%d}",
            choice_label(obj, "type").lower(),
        )

    @admin.display(description="Amount", ordering="_amount")
    def amount(self, obj) -> str:
        # two places on every database, in the order's currency (every amount a person reads names its currency)
        return f"{Decimal(obj._amount).quantize(Decimal('0.01'))} {obj.order.currency}"

    @admin.display(description="Approval request")
    @once_per_object
    def pending_approval(self, obj) -> str:
        approval = approvals.pending_approval_for(obj)
        return approval.approval_id if approval else "—"

    def has_add_permission(self, request) -> bool:
        return False  # appeasements are drafted through the ccagent API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        return  # read-only: the writes are the transition buttons

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        return []

    def apply_transition(self, request, obj, transition_name, form_data):
        if transition_name == "submit":
            result = services.appeasement_submit(appeasement_id=obj.appeasement_id, caller=request.user)
            return f"Appeasement {result.appeasement_id}: {result.get_state_display().lower()}."
        if transition_name in ("approve", "reject"):
            approvals.appeasement_decide(
                appeasement=obj,
                actor=request.user,
                approve=transition_name == "approve",
                note=form_data.get("note", ""),
            )
            return f"Appeasement {obj.appeasement_id}: {'approved' if transition_name == 'approve' else 'rejected'}."
        raise DomainError(f"'{transition_name}' is not available here")  # e.g. request_approval: the service decides


@admin.register(AppeasementReason)
class AppeasementReasonAdmin(ChangeReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "description", "active")
    list_filter = ("active",)
    search_fields = ("code", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: appeasements keep their reason


@admin.register(RefundType)
class RefundTypeAdmin(ChangeReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "description", "requires_payment_group", "ledger_source", "active")
    list_filter = ("active", "ledger_source")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
