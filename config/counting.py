"""Counts that cost the same on the millionth row as on the first.

On PostgreSQL a count over more than ``ESTIMATE_ABOVE`` rows comes from the planner's statistics: the
table's ``reltuples`` when the query has no filter, the plan's row estimate when it has one (one ``EXPLAIN``,
no scan). Smaller results are counted exactly by a ``COUNT(*)`` that stops after ``ESTIMATE_ABOVE + 1`` rows;
other databases count exactly. Used by the admin changelists and the
API lists of the big tables, where an exact total would scan every matching row on every page.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 1_000  # exact counts read at most this many index entries (about a millisecond)


def estimated_count(queryset: QuerySet, *, threshold: int = ESTIMATE_ABOVE) -> tuple[int, bool]:
    """``(count, is_estimate)``: exact up to ``threshold`` rows, the planner's estimate above it (PostgreSQL).

    One query when the result is small (a ``COUNT(*)`` that stops after ``threshold + 1`` rows: its cost does
    not grow with the table), two when it is big (that, then ``reltuples`` or ``EXPLAIN``)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.is_sliced or queryset.query.distinct:
        return queryset.count(), False
    queryset = queryset.order_by()
    if not queryset.query.combinator:
        # the rows' ids only: the columns and annotations a list shows (an issue's SLA clock) count no rows, and a
        # sliced count would compute them for each row it counts
        queryset = queryset.values("pk")
    bounded = queryset[: threshold + 1].count()
    if bounded <= threshold:
        return bounded, False
    query = queryset.query
    with connection.cursor() as cursor:
        if not query.where and not query.combinator:
            table = queryset.model._meta.db_table
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            row = cursor.fetchone()
            estimate = row[0] if row else -1
        else:
            sql, params = query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, bounded), True  # never fewer than the rows just seen (-1: never analyzed)


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` is :func:`estimated_count` (``is_estimate`` tells which it was)."""

    is_estimate = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.is_estimate = estimated_count(self.object_list)
        return count


def estimated_pagination():
    """The API's page-number pagination with :class:`EstimatedCountPaginator` (for lists of the big tables)."""
    from config.api.pagination import StandardPagination

    return type("EstimatedCountPagination", (StandardPagination,), {"django_paginator_class": EstimatedCountPaginator})
