"""``x-api-key`` and ``x-site-context`` for the fabric API.

Checked in this order: the key (401: missing, unknown, revoked or expired), the site context (400:
missing, not a JSON object, nested deeper than ``API_MAX_JSON_DEPTH`` (32) levels, ``account`` missing or
malformed, bad ``channel``/``stage``/``date``),
then the key's account against the context's (403). Orders are then looked up inside the context's
account (and channel when given); anything else answers 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AnonymousUser
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.authentication import BaseAuthentication

from config.accounts import ACCOUNT_RE
from config.api.bounds import json_too_deep, max_json_depth
from returns.errors import AccountMismatch, ApiKeyRequired, InvalidApiKey, InvalidSiteContext
from returns.models import AccountAPIKey

HEADER = "x-site-context"


@dataclass(frozen=True)
class SiteContext:
    account: str
    channel: int | None = None
    stage: str | None = None
    date: datetime | date | None = None


class FabricAPIKeyAuthentication(BaseAuthentication):
    """Authenticates the ``x-api-key`` header against the hashed keys; ``request.auth`` is the key."""

    def authenticate(self, request):
        key = request.headers.get("x-api-key", "").strip()
        if not key:
            raise ApiKeyRequired()
        try:
            api_key = AccountAPIKey.objects.get_from_key(key)
        except AccountAPIKey.DoesNotExist:
            raise InvalidApiKey() from None
        if api_key.has_expired:
            raise InvalidApiKey()
        return AnonymousUser(), api_key

    def authenticate_header(self, request) -> str:
        return "x-api-key"


def _bad(message: str, field: str = HEADER) -> InvalidSiteContext:
    return InvalidSiteContext(message, field=field)


def parse_site_context(raw: str | None) -> SiteContext:
    if raw is None or not raw.strip():
        raise _bad("The x-site-context header is required")
    depth = max_json_depth()
    if json_too_deep(raw, depth):  # scanned, not parsed: no recursion however deep the header nests
        raise _bad(f"The x-site-context header must be a JSON object nested at most {depth} levels deep")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad("The x-site-context header must be a JSON object") from None
    if not isinstance(data, dict):
        raise _bad("The x-site-context header must be a JSON object")
    account = data.get("account")
    if account is None or account == "":
        raise _bad("x-site-context.account is required", f"{HEADER}.account")
    if not isinstance(account, str) or not ACCOUNT_RE.match(account):
        raise _bad("x-site-context.account must be the 24-character account identifier", f"{HEADER}.account")

    channel = data.get("channel")
    if channel is not None:
        if isinstance(channel, str) and channel.isdigit():
            channel = int(channel)
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            raise _bad("x-site-context.channel must be a sales channel ID (a whole number)", f"{HEADER}.channel")

    stage = data.get("stage")
    if stage is not None and not isinstance(stage, str):
        raise _bad("x-site-context.stage must be a string", f"{HEADER}.stage")

    when = data.get("date")
    if when is not None:
        parsed = None
        if isinstance(when, str):
            try:
                parsed = parse_datetime(when) or parse_date(when)
            except ValueError:
                parsed = None
        if parsed is None:
            raise _bad("x-site-context.date must be an ISO 8601 date or date-time", f"{HEADER}.date")
        when = parsed
    return SiteContext(account=account, channel=channel, stage=stage, date=when)


def authorize(api_key: AccountAPIKey, raw_context: str | None) -> SiteContext:
    """The request's site context, once the key is known to be valid; 403 for another account's key."""
    context = parse_site_context(raw_context)
    if api_key.account != context.account:
        raise AccountMismatch()
    return context
