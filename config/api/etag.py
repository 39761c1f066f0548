"""Optimistic concurrency: a row's ``revision`` is its ``ETag``; ``If-Match`` with a stale one is 412.

A GET answers ``ETag: "<revision>"``. A write may send ``If-Match`` with that value: the row is locked
(``select_for_update``) and compared inside the write's transaction, so a stale value is refused before
anything changes. Without ``If-Match`` the services' own row locks still prevent lost updates.

    with if_match(request, Order.objects.filter(order_id=order_id)):
        services.order_change_status(...)
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from config.errors import PreconditionFailed, ValidationFailed

_TAG = re.compile(r'^\s*(?:W/)?"([0-9]{1,9})"\s*$')


def etag_for(revision: int) -> str:
    return f'"{int(revision)}"'


def with_etag(response, revision: int | None):
    if revision is not None:
        response["ETag"] = etag_for(revision)
    return response


def parse_if_match(raw: str) -> set[int] | None:
    """The revisions named by an ``If-Match`` header; ``None`` for ``*`` (any current row)."""
    values: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if part == "*":
            return None
        match = _TAG.match(part)
        if match is None:
            raise ValidationFailed.single("If-Match", 'Must be the ETag of the record, e.g. "3"')
        values.add(int(match.group(1)))
    return values


@contextmanager
def if_match(request, queryset: QuerySet | None = None, *, field: str = "revision", current: int | None = None):
    """One transaction in which the row is locked and checked against ``If-Match`` before the write runs.

    A missing row is left to the write (it answers its own not-found error). ``current``: the revision of a row the
    caller has locked already in its open transaction (instead of ``queryset``: no second read).
    """
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        yield  # no precondition: the write's own row lock prevents lost updates
        return
    wanted = parse_if_match(raw)
    if queryset is None:  # the caller holds the row's lock in its transaction: compare, nothing to read
        _precondition_check(current, wanted)
        yield
        return
    with transaction.atomic():
        current = queryset.select_for_update().values_list(field, flat=True).first()
        _precondition_check(current, wanted)
        yield


def _precondition_check(current: int | None, wanted) -> None:
    if current is not None and wanted is not None and current not in wanted:
        raise PreconditionFailed(current_revision=current, etag=etag_for(current))


IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^\s*(\*|(W/)?"[0-9]{1,9}"(\s*,\s*(W/)?"[0-9]{1,9}")*)\s*$'},
    OpenApiParameter.HEADER,
    required=False,
    description='The `ETag` of the record as last read (e.g. `"3"`). A stale value is refused with 412 and '
    "changes nothing; without it the write still cannot lose another one's update (row lock).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[!-~]([ -~]{0,253}[!-~])?$", "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string up to 255 printable ASCII characters. A retry with the same key and body "
    "gets the first answer again (header `Idempotent-Replayed: true`) without doing anything twice; the "
    "same key with another body is refused (422 IDEMPOTENCY_KEY_REUSED). Kept 24 hours per caller.",
)


def etag_header(*statuses: int) -> OpenApiParameter:
    """The ``ETag`` response header of the given statuses."""
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=list(statuses) or [200],
        description='The record\'s revision, e.g. `"3"`: send it back as `If-Match`.',
    )
