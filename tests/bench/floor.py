"""The floors: what bare Django costs for the same work, served beside the project in the bench.

- A bare view that writes the same rows as the issue PATCH with a note and a refund: token lookup, lock the
  issue, update it (one history row), one note (and its history row), lock the order, sum its refunds, insert
  the refund (and its history row). No DRF, no validation beyond the ledger check, no events or tasks.
- A bare admin site (``/bench/admin/``): Django's own ``ModelAdmin`` changelists of issues, orders and
  appeasements with the same columns as plain fields (no SLA clock, amounts or links), the same page size, order and
  estimated count: what Django's admin templates cost to show those 50 rows with nothing else.
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
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

from appeasements.models import Appeasement
from config.counting import EstimatedCountPaginator
from config.urls import urlpatterns as project_urlpatterns
from issues.models import IssueNote, OrderIssue
from orders.models import Order, Payment, Refund, RefundCause, RefundStatus


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
        order = Order.objects.select_for_update().only("pk", "currency").get(pk=issue.order_id)
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
    return JsonResponse({"success": True, "issue_id": issue.issue_id, "refund_id": refund.refund_id})


bare_admin = admin.AdminSite(name="bare_admin")
BARE = {}


def _bare(model, columns: tuple, related: tuple = ()) -> None:
    BARE[model._meta.model_name] = (model, columns, related)
    attrs = {
        "list_display": columns,
        "list_select_related": related,
        "list_per_page": 50,
        "show_full_result_count": False,
        "paginator": EstimatedCountPaginator,
    }
    bare_admin.register(model, type(f"Bare{model.__name__}Admin", (admin.ModelAdmin,), attrs))


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
    *project_urlpatterns,
]
