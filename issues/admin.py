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
from unfold.decorators import action

from config.admin_mixins import (
    GrowingTableAdmin,
    ModelAdmin,
    OnceForm,
    ServiceFSMAdminMixin,
    SimpleHistoryAdmin,
    TabularInline,
    cell_html,
    choice_label,
    object_or_404,
    once_per_object,
    pk_from_url,
    submit_once,
)
from config.errors import DomainError
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
from issues.selectors import approvals_with_order, follow_up_due_q, issue_page
from orders import ledger
from orders.admin import refund_limit_context, refund_outcome
from orders.models import Order, OrderItem, Refund, RefundCause, RefundSource

User = get_user_model()


def _error_text(err: DomainError) -> str:
    detail = "; ".join(f"{e['field']}: {e['error']}" for e in err.extra.get("validation_errors", []))
    return f"{err.message}{' — ' + detail if detail else ''}"


def age_text(since) -> str:
    """How long ago, as a list column shows it: 12m, 5h, 3d."""
    delta = timezone.now() - since
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}m"
    if delta < timedelta(days=1):
        return f"{int(delta.total_seconds() // 3600)}h"
    return f"{delta.days}d"


def status_label(value: str) -> str:
    """An issue status as people read it ("In progress"), the value itself when it names none."""
    try:
        return IssueStatus(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


# The workflow's order, for saying where an issue can go "back to" and "on to".
STATUS_ORDER = [IssueStatus.OPEN, IssueStatus.INVESTIGATING, IssueStatus.IN_PROGRESS, IssueStatus.ESCALATED]
STATUS_ORDER += [IssueStatus.RESOLVED, IssueStatus.CLOSED]


# The step the workspace suggests first (its primary button, the "a" key): the workflow's usual way forward.
NEXT_STEP = {
    IssueStatus.OPEN: "investigate",
    IssueStatus.INVESTIGATING: "start_work",
    IssueStatus.IN_PROGRESS: "resolve",
    IssueStatus.RESOLVED: "close",
    IssueStatus.CLOSED: "reopen",
    IssueStatus.ESCALATED: "start_work",
}


def where_it_can_go(current: str, allowed: list[str]) -> str:
    """A refused move, in words that say what to do next: "This issue is In progress; it can go back to
    Investigating or on to Resolved." """
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    here = rank.get(current, 0)
    back = [status_label(s) for s in allowed if rank.get(s, 0) < here]
    on = [status_label(s) for s in allowed if rank.get(s, 0) >= here]
    ways = []
    if back:
        ways.append("back to " + " or ".join(back))
    if on:
        ways.append("on to " + " or ".join(on))
    if not ways:
        return f"This issue is {status_label(current)}; it cannot move from there."
    return f"This issue is {status_label(current)}; it can go {' or '.join(ways)}."


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


class EscalationForm(TransitionNotesForm):
    notes = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why a manager should take it: added to the log and shown with the request.",
        error_messages={"required": "Say why it needs a manager: the request carries this note."},
    )


class ApprovalDecisionForm(forms.Form):
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))


class IssueRefundForm(OnceForm):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    source = forms.ChoiceField(choices=RefundSource.choices)
    notes = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"#{obj.line_number} {obj.store_item_name} ({obj.sku}) × {obj.quantity} at {obj.unit_price}"


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """Django's choices of a model, read in one query: its own iterator reads them through ``iterator()``, on
    PostgreSQL a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) for the dozen employees listed."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class EmployeeChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator

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
        if "affected_items" in self.fields:  # the add form: the items of the order it names, to tick
            order_pk = pk_from_url(Order, self.data.get("order") or self.initial.get("order") or "")
            self.fields["affected_items"] = ItemChoiceField(
                queryset=OrderItem.objects.filter(order_id=order_pk).order_by("line_number")
                if order_pk is not None
                else OrderItem.objects.none(),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Affected items",
                help_text="Tick the items the customer's problem is about (the order's items, once it is chosen).",
            )


# Who opened the issue and when it moved: read-only, at the foot of the issue page.
STAMPS = ("created_by", "created_at", "updated_at", "resolved_at", "closed_at", "reopen_count", "revision")

# The note box beside the workflow's steps on the issue page: a step pressed with it filled in is taken at once.
STEP_NOTE = "_step_note"

UPDATABLE = (
    "priority",
    "assigned_to",
    "resolution_description",
    "customer_satisfied",
    "follow_up_required",
    "follow_up_date",
)


# --------------------------------------------------------------------------- issue admin


class IssueNoteInline(TabularInline):
    """The communication log: notes are added, never edited or deleted."""

    model = IssueNote
    fields = ("created_at", "written_by", "kind", "channel", "body")
    readonly_fields = ("created_at", "written_by")
    extra = 1
    can_delete = False
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        """No rows: the issue page shows the notes in its timeline; this inline is the note box at its head."""
        return super().get_queryset(request).none()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "channel":
            field.initial = NoteChannel.ADMIN  # written here, not through the API (the model's default)
        return field

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
        **{name: TransitionNotesForm for name in ("back_to_open", "reopen", "investigate", "start_work", "resolve")},
        "close": TransitionNotesForm,
        "escalate": EscalationForm,  # a manager reads why: the note is required
    }
    change_form_template = "admin/issues/orderissue/change_form.html"
    # The key columns fit 1280 px (docs/admin.md): the issue is its title over its id and type; no sideways scroll.
    list_display = ("issue", "order", "status_and_priority", "assigned_to", "sla_clock", "follow_up")
    list_display_links = ("issue",)
    list_select_related = ("order", "assigned_to")
    list_only = ("issue_id", "title", "issue_type", "status", "priority", "created_at", "follow_up_required")
    list_only += ("follow_up_date", "order__order_id", "order__status", "assigned_to__username")
    list_filter = (MineFilter, SlaFilter, "status", "priority", "issue_type", FollowUpDueFilter, EscalationFilter)
    search_fields = ("=issue_id", "=order__order_id", "=order__customer_email")
    search_help_text = "Exact issue id, order id or customer e-mail"
    list_per_page = 50
    raw_id_fields = ("order",)
    object_select_related = ("order", "created_by", "assigned_to")  # read on the page; the refunds need the order
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
            *STAMPS,
            "refunds",
            "sla_clock",
            "first_response",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("order", "affected_items", "issue_type", "title", "description", "priority", "assigned_to", "notes")
        return (
            "title",
            "issue_id",
            "status",
            "sla_clock",
            "first_response",
            "order",
            "issue_type",
            "priority",
            "description",
            "assigned_to",
            "resolution_description",
            "customer_satisfied",
            "follow_up_required",
            "follow_up_date",
            "notes",
            "refunds",
            *STAMPS,
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
        # _sla_now: the moment the clock reads, for the query desk.admin builds once (else now)
        return sla.annotate(super().get_queryset(request), getattr(request, "_sla_now", None))

    # -- list columns

    @admin.display(description="Issue", ordering="issue_id")
    def issue(self, obj: OrderIssue):
        return cell_html(
            '{}<br><span class="bo-quiet">{} · {} · {} old</span>',
            obj.title,
            obj.issue_id,
            choice_label(obj, "issue_type"),
            self.age(obj),
        )

    @admin.display(description="Status", ordering="status")
    def status_and_priority(self, obj: OrderIssue):
        return cell_html(
            '{}<br><span class="bo-quiet">{} priority</span>',
            choice_label(obj, "status"),
            choice_label(obj, "priority"),
        )

    @admin.display(description="SLA (resolution)", ordering="sla_due")
    def sla_clock(self, obj: OrderIssue):
        left = getattr(obj, "sla_left", None)
        text = sla.describe(left, done=obj.status in sla.DONE, waiting=getattr(obj, "sla_waiting", False))
        if left is None:
            return text
        late = left < timedelta(0)
        soon = not late and obj.status not in sla.DONE and left < sla.soon()
        css = "sla-late" if late else "sla-soon" if soon else "sla-ok"
        return cell_html('<span class="sla {}" title="due {}">{}</span>', css, obj.sla_due, text)

    @admin.display(description="First response")
    @once_per_object
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
        return age_text(obj.created_at)

    @admin.display(description="Follow-up", ordering="follow_up_date")
    def follow_up(self, obj: OrderIssue) -> str:
        if not obj.follow_up_required or not obj.follow_up_date:
            return "—"
        when = obj.follow_up_date.strftime("%Y-%m-%d %H:%M")
        return f"DUE {when}" if obj.follow_up_due else when

    @admin.display(description="Refunds")
    @once_per_object
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
                    r.get_source_display().lower(),  # "store credit", not the API's store_credit
                    r.get_status_display().lower(),
                    # set only when the processor refused it (failed: nothing paid, the amount refundable again)
                    r.failure_reason,
                    r.created_at.strftime("%Y-%m-%d %H:%M"),
                )
                for r in rows
            ),
        )
        money = getattr(obj, "_page_money", None)  # the workspace's, read with the order's payments and refunds
        refundable = money.refundable if money is not None else ledger.refundable(obj.order)
        return format_html(
            '<div class="bo-scroll" id="issue-refunds"><table class="bo-table">'
            "<tr><th>Refund</th><th>Amount</th><th>Source</th><th>Status</th><th>Failure reason</th>"
            "<th>When</th></tr>{}</table></div>"
            "<p>Order refundable: {} {} &nbsp; <a class='bo-button' href='{}'>Refund through the ledger</a></p>",
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
                        "order_item_ids": [item.order_item_id for item in data.get("affected_items") or []],
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

    def save_related(self, request, form, formsets, change) -> None:
        """The notes (save_formset); never the form's own many-to-many (the affected items): the service wrote
        them with the issue."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

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
        if (done := self._step_with_note(request, obj)) is not None:
            return done
        return super().response_change(request, obj)

    def _step_with_note(self, request, obj):
        """A workflow step pressed with the note box beside the steps filled in (``_step_note``) is taken at once,
        the note going with it, when the note is all the step's short form asks for; otherwise (no note, or a
        note the form refuses) the step opens its form as before. None: not such a step. A note written there
        and sent without a step (Save, Enter) is added to the timeline: nothing typed is lost."""
        name = request.POST.get(self.fsm_post_param)
        note = request.POST.get(STEP_NOTE, "").strip()
        if not note:
            return None
        if not name:
            try:
                services.issue_note_add(issue=obj, actor=request.user, body=note, channel=NoteChannel.ADMIN)
            except DomainError as err:
                self.message_user(request, f"Note not added: {_error_text(err)}", messages.ERROR)
            return None
        transition = self._get_fsm_transition_by_name(obj=obj, transition_name=name)
        form_class = self.get_fsm_transition_form(transition)
        form = form_class(data={"notes": note}) if form_class is not None else None
        if form is not None and (set(form.fields) != {"notes"} or not form.is_valid()):
            return None
        if not transition.has_perm(obj, user=request.user):
            self.message_user(request, f"{self.get_fsm_label(transition)}: you may not take this step.", messages.ERROR)
        else:
            self._apply_fsm_transition(obj=obj, transition_name=name, request=request, kwargs={"notes": note})
        return redirect(request.path)

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

    def transition_facts(self, request, obj, transition_name):
        money = ledger.order_money(obj.order)
        limits = refund_limit_context(obj.order, request.user)
        facts = [
            ("Status now", obj.get_status_display()),
            ("Order", obj.order.order_id),
            ("Refundable", f"{money.refundable} {obj.order.currency}"),
        ]
        if limits["refund_limit"] is not None:
            facts.append(("Your refund limit left", f"{limits['limit_left']} of {limits['refund_limit']}"))
        return facts

    def apply_transition(self, request, obj, transition_name, form_data):
        try:
            result = services.issue_transition(
                issue=obj, actor=request.user, transition_name=transition_name, notes=form_data.get("notes", "")
            )
        except DomainError as err:
            current = err.extra.get("current_status")
            allowed = err.extra.get("allowed_transitions")
            err.message = where_it_can_go(current, allowed) if current and allowed is not None else _error_text(err)
            raise
        if result.approval is not None:
            return (
                f"{result.approval.get_kind_display()} requested ({result.approval.approval_id}); "
                "it waits for a manager's approval."
            )
        return f"Issue {result.issue.issue_id} is now {result.issue.get_status_display().lower()}."

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = pk_from_url(self.model, object_id)  # None for "abc" or an id past the column: no such issue
        read = self.get_object(request, object_id) if pk is not None and request.method in ("GET", "HEAD") else None
        page = issue_page(pk, read.issue_id if read is not None else None) if pk is not None else None
        if page is not None and read is not None:
            # The object is read once per GET (ServiceFSMAdminMixin.get_object): the refunds table reuses the
            # timeline's refunds. A POST's form gets its own object, and its refunds field reads them itself.
            read._page_refunds = page.refunds
            request._issue_page = page  # the apps' parts of the page read it too (desk: the appeasements inline)
        pending = page.pending_approvals if page else []
        for approval in pending:
            approval.requested_status_label = status_label(approval.requested_status)
        obj = self.get_object(request, object_id) if page is not None and request.method in ("GET", "HEAD") else None
        extra_context = {
            **(extra_context or {}),
            "pending_approvals": pending,
            # a pending escalation or reopening shows instead of its button (the service would refuse a second)
            "pending_kinds": {approval.kind for approval in pending},
            "next_step": NEXT_STEP.get(obj.status, "") if obj is not None else "",
            "show_delete": False,
            # the submit bar keeps Save: the workflow's steps are the buttons on top, a note has its own button
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "timeline": page.timeline if page else [],
            "sla_clock": self.sla_clock(obj) if obj is not None else "",
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
    """The managers' inbox: pending first; each row says what is asked (order, customer, amount, reason, who,
    how long ago) and approves or rejects from the row, through the decision form and its note."""

    fsm_fields = ["state"]
    fsm_forms = {"approve": ApprovalDecisionForm, "reject": ApprovalDecisionForm}
    list_display = (
        "asked",
        "order_ref",
        "customer",
        "amount",
        "reason_text",
        "requested_by",
        "age",
    )  # what the request asks for and who decided it: on the request's page (the list fits 1280 px)
    list_select_related = ("issue", "requested_by", "decided_by")
    list_filter = ("state", "kind")
    search_fields = ("=approval_id", "=target_id", "=issue__order__order_id")
    list_display_links = ("asked",)
    actions_row = ["approve_from_list", "reject_from_list"]

    def get_queryset(self, request):
        """The order each request is about and that order's customer (``approvals_with_order``)."""
        return approvals_with_order(super().get_queryset(request))

    @admin.display(description="Request", ordering="approval_id")
    def asked(self, obj):  # not "request": django-unfold keeps the request on the admin as self.request
        """What is asked and its state over the request's id: the list fits 1280 px with its row actions."""
        return format_html(
            '{} · {}<br><span class="bo-quiet nowrap">{}</span>',
            choice_label(obj, "kind"),
            choice_label(obj, "state"),
            obj.approval_id,
        )

    @admin.display(description="Order", ordering="order_ref")
    def order_ref(self, obj):
        return format_html('<span class="nowrap">{}</span>', getattr(obj, "order_ref", None) or "—")

    @admin.display(description="Customer")
    def customer(self, obj) -> str:
        name = " ".join(n for n in (getattr(obj, "customer_first", ""), getattr(obj, "customer_last", "")) if n)
        return name or getattr(obj, "customer_email", None) or "—"

    @admin.display(description="Amount")
    def amount(self, obj) -> str:
        return obj.asked_amount() or "—"

    @admin.display(description="Reason")
    def reason_text(self, obj) -> str:
        return (obj.reason or "—")[:120]

    @admin.display(description="Age", ordering="created_at")
    def age(self, obj) -> str:
        return age_text(obj.created_at)

    @admin.display(description="Asks for")
    def requested_status_text(self, obj) -> str:
        return status_label(obj.requested_status) if obj.requested_status else "—"

    def transition_facts(self, request, obj, transition_name):
        facts = [("Request", f"{obj.get_kind_display()} ({obj.approval_id})"), ("Asked by", obj.requested_by.username)]
        if (obj.payload or {}).get("order_id"):
            facts.append(("Order", obj.payload["order_id"]))
        if (obj.payload or {}).get("amount"):
            facts.append(("Amount", self.amount(obj)))
        if (obj.payload or {}).get("policy"):
            facts.append(("Over policy", obj.payload["policy"]))
        if obj.reason:
            facts.append(("Reason", obj.reason[:200]))
        return facts

    def _decision_form(self, request, object_id, decision: str):
        return redirect("admin:issues_approvalrequest_transition", object_id=object_id, transition_name=decision)

    @action(description="Approve", url_path="approve-from-list", permissions=["change"])
    def approve_from_list(self, request, object_id):
        return self._decision_form(request, object_id, "approve")

    @action(description="Reject", url_path="reject-from-list", permissions=["change"])
    def reject_from_list(self, request, object_id):
        return self._decision_form(request, object_id, "reject")

    def get_help_text(self, transition) -> str:
        return transition_help(transition) or "Your note is kept with the decision and added to the issue's log."

    def get_ordering(self, request):
        pending_first = Case(
            When(state=ApprovalState.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [pending_first.asc(), "-created_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        """Every field, read-only; the status it asks for by its label."""
        names = [f.name for f in self.model._meta.fields if f.name != "id"]
        return [("requested_status_text" if name == "requested_status" else name) for name in names]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

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
class NotificationAdmin(GrowingTableAdmin, ModelAdmin):
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
