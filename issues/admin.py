"""Issues, approval requests and notifications in the admin. Every write goes through issues.services."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin_mixins import (
    GrowingTableAdmin,
    OnceForm,
    ServiceFSMAdminMixin,
    SimpleHistoryAdmin,
    object_or_404,
    pk_from_url,
    submit_once,
)
from config.errors import DomainError
from config.history import created_via
from config.history import who as history_who
from config.people import is_manager
from config.permissions import AGENT_GROUP, MANAGER_GROUP
from issues import services, sla
from issues.models import (
    ApprovalRequest,
    ApprovalState,
    IssueNote,
    IssueStatus,
    NoteChannel,
    Notification,
    OrderIssue,
)
from issues.selectors import follow_up_due_q, issue_page
from orders import ledger
from orders.admin import refund_limit_context, refund_outcome
from orders.models import Refund, RefundCause, RefundSource

User = get_user_model()


def _error_text(err: DomainError) -> str:
    detail = "; ".join(f"{e['field']}: {e['error']}" for e in err.extra.get("validation_errors", []))
    return f"{err.message}{' — ' + detail if detail else ''}"


def transition_help(transition) -> str:
    """The transition's help text, else its method's docstring (the transition form shows it)."""
    return transition.custom.get("help_text") or (getattr(transition.method, "__doc__", None) or "").strip()


# --------------------------------------------------------------------------- filters


class MineFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("open", "My open issues"), ("1", "Assigned to me"), ("unassigned", "Unassigned")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(assigned_to=request.user).exclude(status__in=sla.DONE)
        if self.value() == "1":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class FollowUpDueFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("due", "Due now"), ("today", "Due today"), ("planned", "Planned")]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.filter(follow_up_due_q())
        if self.value() == "today":
            return queryset.filter(follow_up_due_q(end_of_today())).exclude(status__in=sla.DONE)
        if self.value() == "planned":
            return queryset.filter(follow_up_required=True, follow_up_date__gt=timezone.now())
        return queryset


def end_of_today():
    """Midnight at the end of today, in the site's time zone."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        minutes = settings.SLA_BREACHING_SOON_MINUTES
        within = "the hour" if minutes == 60 else f"{minutes} minutes"
        return [
            ("breached", "Breached (open)"),
            ("soon", f"Breaching within {within}"),
            ("waiting", "Waiting on customer"),
            ("breached_all", "Breached (incl. resolved)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "breached":
            return sla.filter_breached(queryset.exclude(status__in=sla.DONE))
        if self.value() == "breached_all":
            return sla.filter_breached(queryset)
        if self.value() == "soon":
            return sla.filter_breaching_soon(queryset)
        if self.value() == "waiting":
            return queryset.filter(sla_waiting=True)
        return queryset


class EscalationFilter(admin.SimpleListFilter):
    title = "escalation"
    parameter_name = "escalation"

    def lookups(self, request, model_admin):
        return [("escalated", "Escalated"), ("requested", "Approval pending")]

    def queryset(self, request, queryset):
        if self.value() == "escalated":
            return queryset.filter(status=IssueStatus.ESCALATED)
        if self.value() == "requested":
            return queryset.filter(approval_requests__state=ApprovalState.PENDING).distinct()
        return queryset


# --------------------------------------------------------------------------- forms


class TransitionNotesForm(forms.Form):
    notes = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Added to the communication log. Required to resolve or close.",
    )


class ApprovalDecisionForm(forms.Form):
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))


class IssueRefundForm(OnceForm):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    source = forms.ChoiceField(choices=RefundSource.choices)
    notes = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


class EmployeeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.username


def assignable_employees():
    return (
        User.objects.filter(is_active=True, groups__name__in=[AGENT_GROUP, MANAGER_GROUP])
        .distinct()
        .order_by("username")
    )


class IssueForm(forms.ModelForm):
    notes = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Added to the communication log; required when raising the priority.",
    )

    class Meta:
        model = OrderIssue
        fields = (
            "order",
            "issue_type",
            "title",
            "description",
            "priority",
            "assigned_to",
            "resolution_description",
            "customer_satisfied",
            "follow_up_required",
            "follow_up_date",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assigned_to" in self.fields:
            self.fields["assigned_to"] = EmployeeChoiceField(queryset=assignable_employees(), required=False)


UPDATABLE = (
    "priority",
    "assigned_to",
    "resolution_description",
    "customer_satisfied",
    "follow_up_required",
    "follow_up_date",
)


# --------------------------------------------------------------------------- issue admin


class IssueNoteInline(admin.TabularInline):
    """The communication log: notes are added, never edited or deleted."""

    model = IssueNote
    fields = ("created_at", "written_by", "kind", "channel", "body")
    readonly_fields = ("created_at", "written_by")
    extra = 1
    can_delete = False
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author").annotate(via=created_via(IssueNote))

    @admin.display(description="author")
    def written_by(self, obj) -> str:
        """The author, and the service account that wrote it on their behalf."""
        if obj.pk is None:
            return "-"
        return history_who(obj.author.username if obj.author else None, getattr(obj, "via", None))

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OrderIssue)
class OrderIssueAdmin(GrowingTableAdmin, ServiceFSMAdminMixin, SimpleHistoryAdmin):
    form = IssueForm
    fsm_fields = ["status"]
    fsm_forms = {
        name: TransitionNotesForm
        for name in ("back_to_open", "reopen", "investigate", "start_work", "resolve", "close", "escalate")
    }
    change_form_template = "admin/issues/orderissue/change_form.html"
    list_display = (
        "issue_id",
        "order",
        "title",
        "status",
        "priority",
        "issue_type",
        "assigned_to",
        "age",
        "sla_clock",
        "follow_up",
    )
    list_select_related = ("order", "assigned_to")
    list_filter = (MineFilter, SlaFilter, "status", "priority", "issue_type", FollowUpDueFilter, EscalationFilter)
    search_fields = ("=issue_id", "=order__order_id", "=order__customer_email")
    search_help_text = "Exact issue id, order id or customer e-mail"
    list_per_page = 50
    raw_id_fields = ("order",)
    object_select_related = ("order", "created_by")  # read-only on the change page; the refunds need the order
    actions = ["assign_to_me"]
    inlines = [IssueNoteInline]
    history_list_display = ["status", "priority"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "issue_id",
            "order",
            "issue_type",
            "title",
            "description",
            "status",
            "created_by",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "reopen_count",
            "revision",
            "refunds",
            "sla_clock",
            "first_response",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("order", "issue_type", "title", "description", "priority", "assigned_to", "notes")
        return (
            ("issue_id", "status", "revision"),
            ("sla_clock", "first_response"),
            "order",
            ("issue_type", "priority"),
            "title",
            "description",
            "assigned_to",
            "resolution_description",
            "customer_satisfied",
            ("follow_up_required", "follow_up_date"),
            "notes",
            "refunds",
            ("created_by", "created_at", "updated_at"),
            ("resolved_at", "closed_at", "reopen_count"),
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_fields(self, request):
        """One term of a known shape searches the one field it can match, through that field's index: an OR
        across the issue and order tables (issue id or order id or e-mail) would read every issue."""
        term = request.GET.get("q", "").strip()
        if term and not term.split()[1:]:
            if "@" in term:
                return ("=order__customer_email",)
            return ("=issue_id",) if term.lower().startswith("issue_") else ("=order__order_id",)
        return super().get_search_fields(request)

    def get_queryset(self, request):
        return sla.annotate(super().get_queryset(request))

    # -- list columns

    @admin.display(description="SLA (resolution)", ordering="sla_due")
    def sla_clock(self, obj: OrderIssue):
        left = getattr(obj, "sla_left", None)
        text = sla.describe(left, done=obj.status in sla.DONE, waiting=getattr(obj, "sla_waiting", False))
        if left is None:
            return text
        late = left < timedelta(0)
        soon = not late and obj.status not in sla.DONE and left < sla.soon()
        css = "sla-late" if late else "sla-soon" if soon else "sla-ok"
        return format_html('<span class="sla {}" title="due {}">{}</span>', css, obj.sla_due, text)

    @admin.display(description="First response")
    def first_response(self, obj: OrderIssue) -> str:
        due = obj.first_response_due_at
        if due is None:
            return "—"
        if obj.first_response_at is not None:
            margin = due - obj.first_response_at
            return f"{obj.first_response_at:%Y-%m-%d %H:%M} — " + ("in time" if margin >= timedelta(0) else "late")
        left = due - timezone.now()
        return sla.describe(left, done=False, waiting=False) + " (no response yet)"

    @admin.display(description="Age", ordering="created_at")
    def age(self, obj: OrderIssue) -> str:
        delta = timezone.now() - obj.created_at
        if delta < timedelta(hours=1):
            return f"{int(delta.total_seconds() // 60)}m"
        if delta < timedelta(days=1):
            return f"{int(delta.total_seconds() // 3600)}h"
        return f"{delta.days}d"

    @admin.display(description="Follow-up", ordering="follow_up_date")
    def follow_up(self, obj: OrderIssue) -> str:
        if not obj.follow_up_required or not obj.follow_up_date:
            return "—"
        when = obj.follow_up_date.strftime("%Y-%m-%d %H:%M")
        return f"DUE {when}" if obj.follow_up_due else when

    @admin.display(description="Refunds")
    def refunds(self, obj: OrderIssue):
        rows = getattr(obj, "_page_refunds", None)
        if rows is None:
            rows = Refund.objects.filter(cause_type=RefundCause.ISSUE, cause_id=obj.issue_id)
            rows = rows.order_by("created_at", "id")
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.refund_id,
                    r.amount,
                    r.currency,
                    r.source,
                    r.status,
                    # set only when the processor refused it (failed: nothing paid, the amount refundable again)
                    r.failure_reason,
                    r.created_at.strftime("%Y-%m-%d %H:%M"),
                )
                for r in rows
            ),
        )
        refundable = ledger.refundable(obj.order)
        return format_html(
            "<table><tr><th>Refund</th><th>Amount</th><th>Source</th><th>Status</th><th>Failure reason</th>"
            "<th>When</th></tr>{}</table>"
            "<p>Order refundable: {} {} &nbsp; <a class='button' href='{}'>Refund through the ledger</a></p>",
            table,
            refundable,
            obj.order.currency,
            reverse("admin:issues_orderissue_refund", args=[obj.pk]),
        )

    # -- writes: all through services

    def save_model(self, request, obj, form, change) -> None:
        request._service_error = None
        data = form.cleaned_data
        try:
            if not change:
                issue = services.issue_create(
                    order_id=data["order"].order_id,
                    actor=request.user,
                    data={
                        "issue_type": data["issue_type"],
                        "title": data["title"],
                        "description": data.get("description", ""),
                        "priority": data.get("priority"),
                        "assigned_to": data["assigned_to"].username if data.get("assigned_to") else None,
                        "notes": data.get("notes") or None,
                    },
                )
                obj.pk = issue.pk
                obj.issue_id = issue.issue_id
                return
            changes = {name: data[name] for name in form.changed_data if name in UPDATABLE}
            if "assigned_to" in changes:
                changes["assigned_to"] = changes["assigned_to"].username if changes["assigned_to"] else None
            if data.get("notes"):
                changes["notes"] = data["notes"]
            if changes:
                services.issue_update(
                    order_id=obj.order.order_id,
                    issue_id=obj.issue_id,
                    actor=request.user,
                    changes=changes,
                    channel=NoteChannel.ADMIN,
                )
        except DomainError as err:
            request._service_error = err
            self.message_user(request, f"Not saved: {_error_text(err)}", messages.ERROR)

    def save_formset(self, request, form, formset, change) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if getattr(request, "_service_error", None) or formset.model is not IssueNote:
            return
        for note_form in formset.forms:
            if note_form.instance.pk or not note_form.has_changed() or not note_form.cleaned_data.get("body"):
                continue
            try:
                note = services.issue_note_add(
                    issue=form.instance,
                    actor=request.user,
                    body=note_form.cleaned_data["body"],
                    kind=note_form.cleaned_data["kind"],
                    channel=note_form.cleaned_data["channel"],
                )
            except DomainError as err:
                self.message_user(request, f"Note not added: {_error_text(err)}", messages.ERROR)
            else:
                formset.new_objects.append(note)

    def response_change(self, request, obj):
        if getattr(request, "_service_error", None):
            return redirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_service_error", None):
            return redirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # the services write history rows with their own reasons

    def get_help_text(self, transition) -> str:
        return transition_help(transition)

    def _get_fsm_transition_by_name(self, *, obj, transition_name):
        """The transition for the issue's current state (a method may have one per source state)."""
        meta = self._get_fsm_transition_func(obj=obj, transition_name=transition_name)._django_fsm
        return meta.get_transition(obj.status) or super()._get_fsm_transition_by_name(
            obj=obj, transition_name=transition_name
        )

    def apply_transition(self, request, obj, transition_name, form_data):
        try:
            result = services.issue_transition(
                issue=obj, actor=request.user, transition_name=transition_name, notes=form_data.get("notes", "")
            )
        except DomainError as err:
            err.message = _error_text(err)
            raise
        if result.approval is not None:
            return (
                f"{result.approval.get_kind_display()} requested ({result.approval.approval_id}); "
                "it waits for a manager's approval."
            )
        return f"Issue {result.issue.issue_id} is now {result.issue.get_status_display().lower()}."

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = pk_from_url(self.model, object_id)  # None for "abc" or an id past the column: no such issue
        page = issue_page(pk) if pk is not None else None
        if page is not None and request.method in ("GET", "HEAD"):
            # The object is read once per GET (ServiceFSMAdminMixin.get_object): the refunds table reuses the
            # timeline's refunds. A POST's form gets its own object, and its refunds field reads them itself.
            obj = self.get_object(request, object_id)
            if obj is not None:
                obj._page_refunds = page.refunds
        extra_context = {
            **(extra_context or {}),
            "pending_approvals": page.pending_approvals if page else [],
            "show_delete": False,
            "timeline": page.timeline if page else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        done, failed = 0, 0
        for issue in queryset.select_related("order"):
            try:
                with transaction.atomic():
                    services.issue_update(
                        order_id=issue.order.order_id,
                        issue_id=issue.issue_id,
                        actor=request.user,
                        changes={"assigned_to": request.user.username},
                        channel=NoteChannel.ADMIN,
                    )
                done += 1
            except DomainError as err:
                failed += 1
                self.message_user(request, f"{issue.issue_id}: {_error_text(err)}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} issue(s) assigned to you.", messages.SUCCESS)

    # -- the refund form

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="issues_orderissue_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id):
        issue = object_or_404(OrderIssue.objects.select_related("order"), object_id)
        if not (self.has_change_permission(request, issue) and request.user.has_perm("orders.add_refund")):
            messages.error(request, "You do not have permission to refund.")
            return redirect("admin:issues_orderissue_change", issue.pk)
        money = ledger.order_money(issue.order)
        form = IssueRefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():

            def write():
                result = services.issue_update(
                    order_id=issue.order.order_id,
                    issue_id=issue.issue_id,
                    actor=request.user,
                    changes={
                        "refund_amount": form.cleaned_data["amount"],
                        "refund_source": form.cleaned_data["source"],
                        "notes": form.cleaned_data["notes"],
                    },
                    channel=NoteChannel.ADMIN,
                )
                url = reverse("admin:issues_orderissue_change", args=[issue.pk])
                return url, refund_outcome(result.refund or result.approvals[-1])

            try:
                if (done := submit_once(request, form, write)) is not None:
                    return done
            except DomainError as err:
                form.add_error(None, _error_text(err))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": issue,
            "title": f"Refund for issue {issue.issue_id}",
            "form": form,
            "paid": money.paid,
            "refunded": money.refunded,
            "refundable": money.refundable,
            **refund_limit_context(issue.order, request.user),
        }
        return TemplateResponse(request, "admin/issues/orderissue/refund.html", context)


# --------------------------------------------------------------------------- approvals


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(GrowingTableAdmin, ServiceFSMAdminMixin, SimpleHistoryAdmin):
    """The managers' queue: pending first; approve and reject each ask for a note."""

    fsm_fields = ["state"]
    fsm_forms = {"approve": ApprovalDecisionForm, "reject": ApprovalDecisionForm}
    list_display = (
        "approval_id",
        "kind",
        "state",
        "issue",
        "requested_status",
        "requested_by",
        "created_at",
        "decided_by",
    )
    list_select_related = ("issue", "requested_by", "decided_by")
    list_filter = ("state", "kind")
    search_fields = ("=approval_id", "=target_id", "=issue__order__order_id")

    def get_help_text(self, transition) -> str:
        return transition_help(transition) or "Your note is kept with the decision and added to the issue's log."

    def get_ordering(self, request):
        pending_first = Case(
            When(state=ApprovalState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [pending_first.asc(), "-created_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        return  # read-only: decisions go through the transition forms

    def construct_change_message(self, request, form, formsets, add=False):
        return []

    def apply_transition(self, request, obj, transition_name, form_data):
        if transition_name not in ("approve", "reject"):
            raise DomainError(f"'{transition_name}' is not available here")
        try:
            approval = services.approval_decide(
                approval_id=obj.approval_id,
                actor=request.user,
                approve=transition_name == "approve",
                note=form_data.get("note", ""),
            )
        except DomainError as err:
            err.message = _error_text(err)
            raise
        return f"Request {approval.approval_id} {approval.state}."


# --------------------------------------------------------------------------- notifications


@admin.register(Notification)
class NotificationAdmin(GrowingTableAdmin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "issue", "message", "emailed_at")
    list_select_related = ("recipient", "issue")
    list_filter = ("kind", ("emailed_at", admin.EmptyFieldListFilter))
    search_fields = ("=issue__issue_id", "=recipient__username")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if is_manager(request.user) else qs.filter(recipient=request.user)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
