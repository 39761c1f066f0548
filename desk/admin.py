"""The admin as the support desk works in it: the pages that bring several apps together.

Each domain app registers its own admin; this top app (last in ``INSTALLED_APPS``, imported by nobody) adds what
crosses apps: the order page's issues, appeasements and returns and its refund form (which may open a refund
request in the approval queue), the issue page's appeasements, and the managers' dashboard.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from unfold.decorators import action

from appeasements.models import Appeasement, AppeasementState
from appeasements.selectors import appeasement_initiation
from appeasements.services import appeasement_create
from config.admin_mixins import ReadOnlyInline, cell_html, object_or_404, pk_from_url, submit_once
from config.admin_urls import change_url
from config.db_router import reads_from_replica
from config.errors import DomainError
from config.people import is_manager
from config.prebuilt import Prebuilt
from desk import dashboard, workspace
from desk.appeasement_form import AppeasementForm
from issues import refund_requests, sla
from issues.admin import OrderIssueAdmin
from issues.models import OrderIssue
from orders import ledger
from orders.admin import (
    OrderAdmin,
    OrderItemInline,
    PaymentInline,
    RefundForm,
    RefundInline,
    ShipmentInline,
    refund_limit_context,
    refund_outcome,
)
from orders.models import Order, RefundCause
from returns.models import Return


class DisplayOnlyInline(ReadOnlyInline):
    """Shown on the order page, left out of its POSTs (transition buttons): no management form needed."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.method != "POST" and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderIssueInline(DisplayOnlyInline):
    """The order's issues with their status, age and SLA clock (read-only; open one to work it)."""

    model = OrderIssue

    fields = ("issue_link", "title", "status", "priority", "assigned_to", "age", "sla_clock")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "Issues"

    def get_queryset(self, request):
        return sla.annotate(super().get_queryset(request).select_related("assigned_to")).order_by("-created_at")

    @admin.display(description="Issue")
    def issue_link(self, obj):
        return cell_html(
            '<a href="{}" class="text-link">{}</a>', change_url("admin:issues_orderissue_change", obj.pk), obj
        )

    @admin.display(description="Age")
    def age(self, obj) -> str:
        return sla.describe(timezone.now() - obj.created_at, done=False, waiting=False).replace(" left", "")

    @admin.display(description="SLA")
    def sla_clock(self, obj) -> str:
        return sla.describe(obj.sla_left, done=obj.status in sla.DONE, waiting=obj.sla_waiting)


class AppeasementInline(DisplayOnlyInline):
    """Appeasements on the order (read-only here; the appeasements app owns their workflow)."""

    model = Appeasement

    fields = ("appeasement_link", "state", "reason", "type", "total", "agent", "issue", "created_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("reason", "agent", "issue")
            .annotate(_total=Sum("refunds__amount"))
            .order_by("created_at")
        )

    @admin.display(description="Appeasement")
    def appeasement_link(self, obj):
        return cell_html(
            '<a href="{}" class="text-link">{}</a>',
            change_url("admin:appeasements_appeasement_change", obj.pk),
            obj.appeasement_id,
        )

    @admin.display(description="Amount")
    def total(self, obj):
        return obj._total or Decimal("0.00")


class ReturnInline(DisplayOnlyInline):
    model = Return

    fields = (
        "return_link",
        "scope",
        "reason",
        "refund_amount",
        "currency",
        "restock",
        "created_by_label",
        "created_at",
    )
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reason").order_by("created_at")

    @admin.display(description="Return")
    def return_link(self, obj):
        return cell_html(
            '<a href="{}" class="text-link">{}</a>', change_url("admin:returns_return_change", obj.pk), obj.return_id
        )


class AppeasementIssueInline(DisplayOnlyInline):
    """The issue page lists the appeasements that settle it."""

    model = Appeasement
    fk_name = "issue"
    fields = ("appeasement_id", "state", "reason", "agent", "type", "created_at", "submitted_at")
    readonly_fields = fields
    verbose_name_plural = "appeasements"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reason", "agent")


class DeskOrderAdmin(OrderAdmin):
    """The order page: the order's own rows, and its issues, appeasements and returns; the refund form."""

    inlines = [
        OrderItemInline,
        PaymentInline,
        RefundInline,
        OrderIssueInline,
        AppeasementInline,
        ReturnInline,
        ShipmentInline,
    ]

    actions_detail = ["open_issue", "start_appeasement", "record_refund"]

    def get_urls(self):
        return [
            path("find/", self.admin_site.admin_view(self.find_view), name="orders_order_find"),
            path("<path:object_id>/refund/", self.admin_site.admin_view(self.refund_view), name="orders_order_refund"),
            path(
                "<path:object_id>/appeasement/",
                self.admin_site.admin_view(self.appeasement_view),
                name="orders_order_appeasement",
            ),
            *super().get_urls(),
        ]

    @action(description="Open an issue", url_path="open-issue", icon="add_task")
    def open_issue(self, request, object_id):
        """The issue form with the order filled in and its items to tick (OrderIssueAdmin.add_view)."""
        order = object_or_404(Order.objects.all(), object_id)
        return redirect(reverse("admin:issues_orderissue_add") + f"?order={order.pk}")

    @action(description="Goodwill credit", url_path="goodwill", icon="redeem")
    def start_appeasement(self, request, object_id):
        order = object_or_404(Order.objects.all(), object_id)
        return redirect("admin:orders_order_appeasement", order.pk)

    @action(description="Record a refund", url_path="record-refund", icon="payments")
    def record_refund(self, request, object_id):
        order = object_or_404(Order.objects.all(), object_id)
        return redirect("admin:orders_order_refund", order.pk)

    def find_view(self, request):
        """The index's search box: an order id, an issue id, a customer's e-mail or phone. One match opens it (the
        order's page, the issue's workspace); none or several show the list the same search gives. Each search is
        the list's own (``get_search_results``: one index per term), read for two rows at most."""
        term = request.GET.get("q", "").strip()
        issues = self.admin_site._registry[OrderIssue]
        target = issues if term.lower().startswith("issue_") else self
        if not target.has_view_permission(request):
            raise PermissionDenied
        opts = target.model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if not term:
            return redirect(changelist)
        found, _duplicates = target.get_search_results(request, target.model.objects.all(), term)
        pks = list(found.order_by().values_list("pk", flat=True).distinct()[:2])
        if len(pks) == 1:
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", pks[0])
        return redirect(f"{changelist}?{urlencode({'q': term})}")

    def appeasement_view(self, request, object_id):
        """Start an appeasement on the order (``?issue=<pk>``: for one of its issues), through
        ``appeasements.services.appeasement_create``: within policy it is submitted, over it a manager decides."""
        order = object_or_404(Order.objects.all(), object_id)
        if not request.user.has_perm("appeasements.add_appeasement"):
            messages.error(request, "You do not have permission to start an appeasement.")
            return redirect("admin:orders_order_change", order.pk)
        issue_pk = pk_from_url(OrderIssue, request.GET.get("issue", ""))
        issue = OrderIssue.objects.filter(pk=issue_pk, order=order).first() if issue_pk is not None else None
        back = (
            reverse("admin:issues_orderissue_change", args=[issue.pk])
            if issue is not None
            else reverse("admin:orders_order_change", args=[order.pk])
        )
        initiation = appeasement_initiation(order)
        form = AppeasementForm(request.POST or None, initiation=initiation, issue=issue)
        if request.method == "POST" and form.is_valid():

            def write():
                done = appeasement_create(caller=request.user, data=form.service_input(issue and issue.issue_id))
                waiting = done.state != AppeasementState.SUBMITTED
                outcome = "it waits for a manager's approval (over policy)" if waiting else "submitted"
                return (
                    back,
                    f"Appeasement {done.appeasement_id} of {form.cleaned_data['amount']} {order.currency}: {outcome}.",
                )

            try:
                if (done := submit_once(request, form, write)) is not None:
                    return done
            except DomainError as err:
                problems = err.extra.get("validation_errors") or []
                form.add_error(None, "; ".join(p["error"] for p in problems) or err.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": order,
            "issue": issue,
            "back": back,
            "title": f"Goodwill credit on order {order.order_id}",
            "form": form,
            "initiation": initiation,
        }
        return TemplateResponse(request, "admin/orders/order/appeasement.html", context)

    def refund_view(self, request, object_id):
        order = object_or_404(Order.objects.all(), object_id)  # "abc" or an id past the column: 404, not 500
        if not request.user.has_perm("orders.add_refund"):
            messages.error(request, "You do not have permission to refund.")
            return redirect("admin:orders_order_change", order.pk)
        money = ledger.order_money(order)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():

            def write():
                with transaction.atomic():
                    done = refund_requests.refund_or_request(
                        order=order,
                        actor=request.user,
                        amount=form.cleaned_data["amount"],
                        source=form.cleaned_data["source"],
                        cause_type=RefundCause.NONE,
                        cause_id="",
                        reason=form.cleaned_data["reason"] or "Admin refund",
                    )
                url = reverse("admin:orders_order_change", args=[order.pk])
                return url, refund_outcome(done)

            try:
                if (done := submit_once(request, form, write)) is not None:
                    return done
            except DomainError as err:
                form.add_error(None, err.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": order,
            "title": f"Record a refund on order {order.order_id}",
            "form": form,
            "paid": money.paid,
            "refunded": money.refunded,
            "refundable": money.refundable,
            **refund_limit_context(order, request.user),
        }
        return TemplateResponse(request, "admin/orders/order/refund.html", context)


def next_issue_pk(user) -> Coalesce:
    """The id of the agent's next open issue after the issue a query reads (oldest first), else the first of the
    queue, else None, as an expression to annotate that issue with. Two index walks of ``issue_open_queue_idx``
    (the agent's open queue by age) of one row each."""
    queue = OrderIssue.objects.filter(assigned_to_id=user.pk).exclude(status__in=sla.DONE).exclude(pk=OuterRef("pk"))
    later = queue.filter(created_at__gt=OuterRef("created_at")).order_by("created_at", "id").values("pk")[:1]
    first = queue.order_by("created_at", "id").values("pk")[:1]
    return Coalesce(Subquery(later), Subquery(first))


def next_issue_url(user, issue: OrderIssue) -> str:
    """The agent's next open issue after this one (``next_issue_pk``), as its page's address; "" when none. The
    workspace reads it with the issue itself (``DeskOrderIssueAdmin.get_queryset``): one query fewer."""
    if "next_pk" in issue.__dict__:
        pk = issue.next_pk
    else:
        pk = (
            OrderIssue.objects.filter(pk=issue.pk)
            .annotate(next_pk=next_issue_pk(user))
            .values_list("next_pk", flat=True)
            .first()
        )
    return reverse("admin:issues_orderissue_change", args=[pk]) if pk is not None else ""


class _Viewer:
    """The user of the request ``_WORKSPACE_ISSUE`` builds its query with: the issue page's queryset reads only
    the viewer's id (``next_issue_pk``)."""

    def __init__(self, pk: int):
        self.pk = pk


def _workspace_issue(pk: int, user_pk: int, now: datetime):
    """The issue as the workspace reads it (``DeskOrderIssueAdmin.get_queryset`` for a GET of its page reading its
    object, as Django's ``get_object`` runs it): the SLA clock at ``now``, the viewer's next issue."""
    request = HttpRequest()
    request.method = "GET"
    request.user = _Viewer(user_pk)
    request._admin_reading_object = True
    request._sla_now = now
    return admin.site._registry[OrderIssue].get_queryset(request).filter(pk=pk).order_by()[:1]


# Its SQL built once (config.prebuilt; tests/admin/test_prebuilt.py compares it with the ORM's): the SLA clock's
# expressions and the next issue's subqueries took the ORM about 2.5 ms to build for a 0.4 ms query.
_WORKSPACE_ISSUE = Prebuilt(
    "workspace-issue", _workspace_issue, (-9001, -9003, datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC)), OrderIssue
)


class DeskOrderIssueAdmin(OrderIssueAdmin):
    """The issue page with the appeasements that settle it; the managers' dashboard."""

    inlines = [*OrderIssueAdmin.inlines, AppeasementIssueInline]
    _no_appeasements_html: str | None = None  # the appeasements inline with no rows, as the page shows it

    def get_inline_instances(self, request, obj=None):
        """On the workspace of an issue with no appeasements (its timeline has none: the same rows), the appeasements
        inline is left out of the form and its markup, the same for every issue then, is put in its place
        (``no_appeasements``): no formset class, form or query for a table without rows. The markup is rendered
        once per process by the inline's own template; tests/admin/test_workspace.py compares the pages."""
        instances = super().get_inline_instances(request, obj)
        page = getattr(request, "_issue_page", None)
        if page is None or request.method not in ("GET", "HEAD") or self.skip_empty_inlines is False:
            return instances
        if any(event["kind"] == "appeasement" for event in page.timeline):
            return instances
        kept = [inline for inline in instances if not isinstance(inline, AppeasementIssueInline)]
        if kept != instances:
            dropped = next(inline for inline in instances if isinstance(inline, AppeasementIssueInline))
            request._no_appeasements = self.no_appeasements(request, obj, dropped)
        return kept

    skip_empty_inlines = True  # False: render the inline as Django does (the tests' reference page)
    prebuilt_object = True  # False: the issue read by Django's get_object (the tests' reference)

    def read_object(self, request, object_id, from_field=None):
        """A GET of the workspace reads its issue with SQL built once (``_WORKSPACE_ISSUE``); anything else (a
        POST's form, an id in another spelling) as Django does."""
        pk = pk_from_url(self.model, object_id)
        if (
            not self.prebuilt_object
            or from_field is not None
            or request.method not in ("GET", "HEAD")
            or pk is None
            or str(pk) != str(object_id)
        ):
            return super().read_object(request, object_id, from_field)
        found = _WORKSPACE_ISSUE(pk, request.user.pk, timezone.now())
        return found[0] if found else None

    def no_appeasements(self, request, obj, inline) -> str:
        """The markup of ``inline`` (the appeasements, the page's last inline) with no rows: what Django's
        formset and Unfold's ``tabular.html`` make of it, rendered the first time and kept."""
        if DeskOrderIssueAdmin._no_appeasements_html is None:
            formset_class = inline.get_formset(request, obj)
            formset = formset_class(
                instance=obj, queryset=inline.get_queryset(request).none(), prefix=formset_class.get_default_prefix()
            )
            [inline_formset] = self.get_inline_formsets(request, [formset], [inline], obj)
            html = render_to_string(
                inline.template, {"inline_admin_formset": inline_formset, "forloop": {"last": True}}
            )
            # with the white space around the change form's include of it
            DeskOrderIssueAdmin._no_appeasements_html = f"\n  {html}\n"
        return mark_safe(DeskOrderIssueAdmin._no_appeasements_html)  # noqa: S308 - the template's own output

    def render_change_form(self, request, context, *args, **kwargs):
        context["no_appeasements"] = getattr(request, "_no_appeasements", "")
        return super().render_change_form(request, context, *args, **kwargs)

    def get_queryset(self, request):
        """The issue a workspace (a GET of its page) reads comes with the next issue of the viewer's queue."""
        queryset = super().get_queryset(request)
        if getattr(request, "_admin_reading_object", False) and request.method in ("GET", "HEAD"):
            queryset = queryset.annotate(next_pk=next_issue_pk(request.user))
        return queryset

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The workspace: the issue's order beside it (desk.workspace), what is refundable, the next issue of the
        agent's queue (the "j" key)."""
        extra_context = dict(extra_context or {})
        pk = pk_from_url(self.model, object_id)
        if pk is not None and request.method in ("GET", "HEAD"):
            issue = self.get_object(request, object_id)
            if issue is not None:
                panel = extra_context["workspace"] = workspace.order_panel(issue.order, issue)
                # the order's money from the panel's payments and refunds; the refunds field shows it too
                extra_context["money"] = issue._page_money = panel.money
                extra_context["next_issue_url"] = next_issue_url(request.user, issue)
                extra_context["appeasement_url"] = (
                    reverse("admin:orders_order_appeasement", args=[issue.order.pk]) + f"?issue={issue.pk}"
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="issues_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        """The managers' dashboard: aggregates only, charts rendered as SVG on the server."""
        if not (is_manager(request.user) or request.user.is_superuser):
            raise PermissionDenied
        today = timezone.localdate()
        try:
            rng = dashboard.DateRange.parse(request.GET.get("start"), request.GET.get("end"), today=today)
            range_error = None
        except dashboard.DateRangeError as err:  # the page, with the default range and what the form allows
            rng = dashboard.DateRange.default(today=today)
            range_error = err
        with reads_from_replica():  # aggregates only: a little replica lag is fine
            data = dashboard.dashboard_data(rng)
        metrics = data["metrics"]
        context = {  # no "opts": the page belongs to no model, its header reads "Home › Managers' dashboard"
            **self.admin_site.each_context(request),
            "title": "Managers' dashboard",
            "data": data,
            "metrics": metrics,
            "charts": dashboard.charts(data),
            "backlog_table": dashboard.backlog_table(data),
            "satisfaction_rate": dashboard.rate(metrics["satisfaction"]["rate"]),
            "breach_rate": dashboard.rate(metrics["sla"]["rate"]),
            "range_error": range_error,
            "earliest_day": dashboard.EARLIEST,
            "latest_day": dashboard.latest_day(today),
            "presets": [
                (label, (rng.end - timedelta(days=days - 1)).isoformat(), rng.end.isoformat())
                for label, days in (("7 days", 7), ("30 days", 30), ("90 days", 90), ("1 year", 365))
            ],
        }
        return TemplateResponse(request, "admin/issues/dashboard.html", context)


admin.site.unregister(Order)
admin.site.register(Order, DeskOrderAdmin)
admin.site.unregister(OrderIssue)
admin.site.register(OrderIssue, DeskOrderIssueAdmin)
