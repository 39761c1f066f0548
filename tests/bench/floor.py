"""The floors: what bare Django costs for the same work, served beside the project in the bench.

- A bare view that writes the same rows as the issue PATCH with a note and a refund: token lookup, lock the
  issue, update it (one history row), one note (and its history row), lock the order, sum its refunds and
  payments, insert the refund (and its history row), move the order's revision (and its history row), one
  outbox event, the refund's job and the dispatch job. No DRF, no permission check, no validation beyond the
  ledger sum, no refund limit, no event body rendered from the API's representation.
- A bare admin site (``/bench/admin/``): Django's own ``ModelAdmin`` changelists of issues, orders, appeasements,
  refunds, order items, approval requests and returns with the same columns as plain fields (no SLA clock, amounts
  or links), the same page size, order and estimated count: what Django's admin templates cost to show those 50
  rows with nothing else; and its change page of an issue (every field, foreign keys as raw ids), what the
  workspace is compared with.
- A hand-written page of the same rows (``/bench/rows/<model>/``): the staff login check, the 50 rows in one
  query and one template loop over their cells, no admin: the least any Django page showing them costs.
"""

import json
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.sites import UnfoldAdminSite

from appeasements.models import Appeasement
from config.counting import EstimatedCountPaginator
from config.urls import urlpatterns as project_urlpatterns
from issues.models import ApprovalRequest, IssueNote, OrderIssue
from orders.models import Order, OrderItem, Payment, Refund, RefundCause, RefundStatus
from orders.services import process_refund
from returns.models import Return
from webhooks.models import OutboxEvent
from webhooks.tasks import dispatch_outbox


@csrf_exempt
def bare_issue_patch(request, order_id: str, issue_id: str):
    key = request.headers.get("Authorization", "").partition(" ")[2]
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None:
        return JsonResponse({"success": False}, status=401)
    body = json.loads(request.body)
    with transaction.atomic():
        issue = OrderIssue.objects.select_for_update().get(issue_id=issue_id, order__order_id=order_id)
        issue.revision += 1
        issue._history_user = token.user
        issue.save()
        note = IssueNote(issue=issue, author=token.user, body=body["notes"])
        note._history_user = token.user
        note.save()
        order = Order.objects.select_for_update().get(pk=issue.order_id)
        refunded = Refund.objects.filter(order_id=order.pk).exclude(status=RefundStatus.FAILED).aggregate(
            s=Sum("amount")
        )["s"] or Decimal(0)
        paid = Payment.objects.filter(order_id=order.pk).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        amount = Decimal(str(body["refund_amount"]))
        if refunded + amount > paid:
            return JsonResponse({"success": False}, status=422)
        refund = Refund(
            order=order,
            amount=amount,
            currency=order.currency,
            source=body["refund_source"],
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
            reason=body["notes"][:255],
            requested_by=token.user,
        )
        refund._history_user = token.user
        refund.save()
        # the rows the PATCH writes besides: the order's revision (its ETag) and its history row, the
        # refund.created webhook event, the refund's processing job and the webhook dispatch job
        order.revision += 1
        order._history_user = token.user
        order.save(update_fields=["revision", "updated_at"])
        event = OutboxEvent(type="refund.created", account="", order_key=order_id)
        event.body = json.dumps({"id": event.event_id, "type": "refund.created", "data": {"id": refund.refund_id}})
        event.save()
        process_refund.enqueue(refund.pk)
        dispatch_outbox.enqueue()
    return JsonResponse({"success": True, "issue_id": issue.issue_id, "refund_id": refund.refund_id})


bare_admin = admin.AdminSite(name="bare_admin")
# The same bare ModelAdmins on Unfold (its site, its ModelAdmin, its templates), to tell Unfold's own cost apart
# from the project's columns and panels.
bare_unfold = UnfoldAdminSite(name="bare_unfold")
BARE = {}


class BareAdmin(admin.ModelAdmin):
    """Django's own ModelAdmin, as a team would first write it for a million rows: its page size, the estimated
    count, related rows joined, foreign keys as raw ids (a ``<select>`` of every order would not be a page). Any
    lookup of the query string is allowed, so a filter or a search of ours is compared with the same rows on it."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def lookup_allowed(self, lookup, value, request=None):
        return True

    # Django's own admin templates, not Unfold's (which the project's admin uses and which come first by name):
    # the page renders with the bench's "bare" template engine (tests/bench/bench_settings.py).
    def changelist_view(self, request, extra_context=None):
        return _bare_templates(super().changelist_view(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _bare_templates(super().changeform_view(request, object_id, form_url, extra_context))


class BareUnfoldAdmin(UnfoldModelAdmin):
    # Unfold's own page templates, not the project's per-model ones (admin/<app>/<model>/...)
    change_list_template = "admin/change_list.html"
    change_form_template = "admin/change_form.html"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def lookup_allowed(self, lookup, value, request=None):
        return True


def _bare_templates(response):
    if isinstance(response, TemplateResponse):
        response.using = "bare"
    return response


def _bare(model, columns: tuple, related: tuple = ()) -> None:
    BARE[model._meta.model_name] = (model, columns, related)
    # every relation as raw ids: a <select> of every order (or of every order item, for an issue's affected
    # items) would not be a page at a million rows
    foreign_keys = tuple(f.name for f in (*model._meta.fields, *model._meta.many_to_many) if f.is_relation)
    attrs = {
        "list_display": columns,
        "list_select_related": related,
        "raw_id_fields": foreign_keys,
        "list_per_page": admin.site._registry[model].list_per_page,  # the same rows as the project's page
    }
    bare_admin.register(model, type(f"Bare{model.__name__}Admin", (BareAdmin,), attrs))
    bare_unfold.register(model, type(f"BareUnfold{model.__name__}Admin", (BareUnfoldAdmin,), attrs))


_bare(
    OrderIssue,
    ("issue_id", "order", "title", "status", "priority", "issue_type", "assigned_to", "created_at"),
    ("order", "assigned_to"),
)
_bare(Order, ("order_id", "customer_email", "customer_phone", "status", "channel", "order_total", "created_at"))
_bare(
    Appeasement,
    ("appeasement_id", "state", "reason", "agent", "order", "type", "created_at"),
    ("reason", "agent", "order"),
)
_bare(
    Refund,
    ("refund_id", "order", "amount", "currency", "source", "status", "cause_type", "requested_by", "created_at"),
    ("order", "requested_by"),
)
_bare(
    OrderItem,
    ("order", "line_number", "sku", "store_item_name", "category", "quantity", "unit_price"),
    ("order", "category"),
)
_bare(
    ApprovalRequest, ("approval_id", "kind", "state", "issue", "requested_by", "created_at"), ("issue", "requested_by")
)
_bare(Return, ("return_id", "order", "scope", "reason", "refund_amount", "currency", "created_at"), ("order", "reason"))

_ROWS = engines["django"].from_string(
    "<!doctype html><title>{{ title }}</title><table>"
    "{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>"
)


@staff_member_required
def bare_rows(request, model_name: str):
    model, columns, related = BARE[model_name]
    objects = model._default_manager.select_related(*related).order_by(*(model._meta.ordering or ["-pk"]))[:50]
    rows = [[getattr(obj, column) for column in columns] for obj in objects]
    return HttpResponse(_ROWS.render({"title": model._meta.verbose_name_plural, "rows": rows}, request))


urlpatterns = [
    path("bench/rows/<str:model_name>/", bare_rows),
    path("bench/floor/orders/<str:order_id>/issues/<str:issue_id>", bare_issue_patch),
    path("bench/admin/", bare_admin.urls),
    path("bench/unfold/", bare_unfold.urls),
    *project_urlpatterns,
]
