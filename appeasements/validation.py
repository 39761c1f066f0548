"""The appeasement validation webhook (the ccagent contract's ``appeasementValidation``: codes 900015 and 900016).

When ``APPEASEMENT_VALIDATION_URL`` is set, submitting POSTs JSON::

    {"appeasement": {...the ccagent response shape...},
     "order": {"orderId", "state", "currencyCode", "orderTotal", "paidAmount", "refundedAmount", "profileId"},
     "previousAppeasements": [{...}, ...]}   # the customer's earlier appeasements, newest first (max 50)

and expects ``200`` with ``{"valid": true}`` or ``{"valid": false, "reason": "..."}``. A verdict of invalid
refuses the submit with 900016 and the hook's reason; no answer, a timeout, a non-2xx status or a body
without a boolean ``valid`` refuses it with 900015.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from rest_framework.utils.encoders import JSONEncoder

from appeasements.errors import ValidationHookError, ValidationHookRejected

logger = logging.getLogger(__name__)
PREVIOUS_MAX = 50


def hook_payload(appeasement) -> dict:
    from appeasements.api.serializers import AppeasementOutput
    from appeasements.selectors import appeasement_queryset
    from orders.ledger import order_money

    fresh = appeasement_queryset().get(pk=appeasement.pk)
    previous = (
        appeasement_queryset()
        .filter(profile_id=appeasement.profile_id)
        .exclude(pk=appeasement.pk)
        .order_by("-created_at", "-id")[:PREVIOUS_MAX]
    )
    money = order_money(fresh.order)
    return {
        "appeasement": AppeasementOutput(fresh).data,
        "order": {
            "orderId": fresh.order.order_id,
            "state": fresh.order.status,
            "currencyCode": fresh.order.currency,
            "orderTotal": fresh.order.order_total,
            "paidAmount": money.paid,
            "refundedAmount": money.refunded,
            "profileId": fresh.order.customer_id,
        },
        "previousAppeasements": AppeasementOutput(previous, many=True).data,
    }


def validate_with_hook(appeasement) -> None:
    url = settings.APPEASEMENT_VALIDATION_URL
    if not url:
        return
    body = json.dumps(hook_payload(appeasement), cls=JSONEncoder).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.APPEASEMENT_VALIDATION_TIMEOUT) as response:  # noqa: S310 - URL from settings
            raw = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        logger.warning("appeasement validation hook answered %s", exc.code)
        raise ValidationHookError(f"The appeasement validation webhook answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        logger.warning("appeasement validation hook unreachable: %s", exc)
        raise ValidationHookError("The appeasement validation webhook did not answer") from exc
    try:
        verdict = json.loads(raw or b"null")
    except ValueError as exc:
        raise ValidationHookError("The appeasement validation webhook answered something that is not JSON") from exc
    if not isinstance(verdict, dict) or not isinstance(verdict.get("valid"), bool):
        raise ValidationHookError("The appeasement validation webhook answered without a verdict")
    if not verdict["valid"]:
        reason = str(verdict.get("reason") or verdict.get("message") or "No reason given")[:500]
        raise ValidationHookRejected(f"The appeasement is invalid: {reason}", reason=reason)
