"""The floor: a bare Django view that writes the same rows as the issue PATCH with a note and a refund.

Token lookup, lock the issue, update it (one history row), one note (and its history row), lock the order,
sum its refunds, insert the refund (and its history row). No DRF, no validation beyond the ledger check, no
events or tasks: what the database work costs with nothing else. Served beside the real API in the bench.
"""

import json
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

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


urlpatterns = [
    path("bench/floor/orders/<str:order_id>/issues/<str:issue_id>", bare_issue_patch),
    *project_urlpatterns,
]
