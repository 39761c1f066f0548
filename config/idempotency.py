"""Safe retries: the ``Idempotency-Key`` header on writes that can move money.

The first request's status and body are kept for ``IDEMPOTENCY_KEY_TTL_HOURS`` (24) per caller, key,
method and path. A retry with the same key and the same request gets the same status and body and
does nothing more (``Idempotent-Replayed: true``); the same key with a different request is refused
(422 ``IDEMPOTENCY_KEY_REUSED`` in the path's dialect).

The key row is inserted *before* the write runs, in the same transaction as the write. A concurrent
request with the same key blocks on the unique index until the first one commits, then replays its
answer (or, if the first one rolled back, runs itself). Answers that depend on the moment rather than
on the request (409, 412, 429, 5xx) are not kept: a retry runs again.

Use it on a DRF handler method::

    @idempotent
    def patch(self, request, order_id): ...
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from config.errors import IdempotencyKeyReused, ValidationFailed

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Headers that change what a request means: part of its fingerprint.
FINGERPRINT_HEADERS = ("If-Match", "x-site-context", "x-ccsite")
# Headers of the first answer given back on a replay.
KEPT_HEADERS = ("ETag", "Location")
NOT_KEPT_STATUSES = {409, 412, 429}


class _Discard(Exception):
    """Roll the key row back but answer with ``response``."""

    def __init__(self, response):
        self.response = response


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24)))


def caller_id(request) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "pk", None) is not None:
        return f"apikey:{auth.pk}"
    return None


def request_key(request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed.single(HEADER, f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return key


def fingerprint(request) -> str:
    payload = {
        "body": request.data,
        "query": sorted(request.query_params.lists()),
        "headers": {h: request.headers.get(h) for h in FINGERPRINT_HEADERS},
    }
    raw = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _render(response) -> str:
    if getattr(response, "data", None) is None:
        return ""
    from config.api.renderers import MoneyJSONRenderer

    return MoneyJSONRenderer().render(response.data).decode()


def _replay(row) -> HttpResponse:
    response = HttpResponse(row.response_body, status=row.status_code, content_type="application/json")
    if not row.response_body:
        del response["Content-Type"]
    for name, value in row.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _claim(*, caller: str, key: str, request, digest: str):
    """Insert the key row, or return the live row another request left. Runs inside a transaction."""
    from config.models import IdempotencyKey

    lookup = {"caller": caller, "key": key, "method": request.method, "path": request.path[:512]}
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    **lookup, request_hash=digest, status_code=0, created_at=now, expires_at=now + ttl()
                )
            return None
        except IntegrityError:
            existing = IdempotencyKey.objects.select_for_update().filter(**lookup).first()
            if existing is None:  # the other request rolled back meanwhile: try again
                continue
            if existing.expires_at <= now:
                existing.delete()
                continue
            return existing
    raise IntegrityError("Could not claim the idempotency key")  # pragma: no cover - a third writer raced twice


def run(view, request, handler):
    """Run ``handler()`` (the view's method) at most once per caller and key."""
    key = request_key(request)
    caller = caller_id(request)
    if key is None or caller is None:
        return handler()
    digest = fingerprint(request)
    try:
        with transaction.atomic():
            existing = _claim(caller=caller, key=key, request=request, digest=digest)
            if existing is not None:
                if existing.request_hash != digest:
                    raise IdempotencyKeyReused(field=HEADER)
                raise _Discard(_replay(existing))
            try:
                with transaction.atomic():
                    response = handler()
            except Exception as exc:  # the dialect's error answer; unexpected errors propagate (row rolled back)
                response = view.handle_exception(exc)
            if response.status_code >= 500 or response.status_code in NOT_KEPT_STATUSES:
                raise _Discard(response)
            from config.models import IdempotencyKey

            IdempotencyKey.objects.filter(
                caller=caller, key=key, method=request.method, path=request.path[:512]
            ).update(
                status_code=response.status_code,
                response_body=_render(response),
                response_headers={h: response[h] for h in KEPT_HEADERS if response.has_header(h)},
            )
            return response
    except _Discard as discard:
        return discard.response


def idempotent(method):
    """Decorator for a DRF view's handler method (``post``, ``put``, ``patch``, ``delete``)."""

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        return run(view, request, lambda: method(view, request, *args, **kwargs))

    return wrapper


def prune(*, now=None) -> int:
    """Delete expired keys; returns how many."""
    from config.models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


# --------------------------------------------------------------------------- the admin's money forms
class AdminFormKeyReused(Exception):
    """The form's key was already used for a submission with other values."""


def admin_form_once(request, *, key: str, values: dict, write) -> tuple[str, str, bool]:
    """Run ``write()`` at most once per employee and form key: the admin's answer to a double click.

    The admin's money forms (refunds, returns) carry a one-time ``form_key`` rendered with the form: a form
    sent twice (a double click, the browser's resend after a slow answer, Back and submit again) records
    the money once. ``write()`` calls the service and returns ``(redirect_url, message)``; that answer is
    kept like an API answer for ``IDEMPOTENCY_KEY_TTL_HOURS``. A resubmission with the same values gets it
    back with ``replayed=True`` and writes nothing; the same key with other values raises
    ``AdminFormKeyReused``. A domain error rolls the key back, so a corrected form can be sent again.
    Concurrent submissions wait on the key's unique index, as in the API.
    """
    from config.models import IdempotencyKey

    caller = f"user:{request.user.pk}"
    raw = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(raw.encode()).hexdigest()
    with transaction.atomic():
        existing = _claim(caller=caller, key=key, request=request, digest=digest)
        if existing is not None:
            if existing.request_hash != digest or not existing.status_code:
                raise AdminFormKeyReused
            return existing.response_headers.get("Location", ""), existing.response_body, True
        url, message = write()
        IdempotencyKey.objects.filter(caller=caller, key=key, method=request.method, path=request.path[:512]).update(
            status_code=302, response_body=message, response_headers={"Location": url}
        )
        return url, message, False
