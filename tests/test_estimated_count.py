"""Estimated counts for big tables: exact below the threshold and on SQLite, the planner's estimate above it."""

import pytest
from django.db import connection

from config.counting import EstimatedCountPaginator, estimated_count
from issues.models import OrderIssue
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def make_issues(n):
    order = order_with_items(items=1)
    for _ in range(n):
        issue_factory(order)


def test_small_results_are_counted_exactly(django_assert_max_num_queries):
    # given
    make_issues(3)
    # when
    with django_assert_max_num_queries(2):  # EXPLAIN or reltuples on PostgreSQL, then COUNT(*)
        count, is_estimate = estimated_count(OrderIssue.objects.all())
    # then
    assert (count, is_estimate) == (3, False)
    assert estimated_count(OrderIssue.objects.filter(status="open"), threshold=0)[0] >= 0


def test_paginator_counts_like_django_below_the_threshold():
    make_issues(4)
    paginator = EstimatedCountPaginator(OrderIssue.objects.order_by("pk"), 3)
    assert paginator.count == 4
    assert paginator.num_pages == 2
    assert paginator.is_estimate is False


@pytest.mark.postgres("estimates come from PostgreSQL's planner statistics")
def test_above_the_threshold_postgresql_estimates_without_counting_everything(django_assert_num_queries):
    # given: statistics for the table
    make_issues(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE issues_orderissue")
    # when: unfiltered (reltuples) and filtered (EXPLAIN), with a threshold below the table's size
    with django_assert_num_queries(2) as ctx:
        count, is_estimate = estimated_count(OrderIssue.objects.all(), threshold=1)
    # then: a COUNT that stops after threshold + 1 rows, then the statistics
    assert is_estimate
    assert count >= 2
    assert "LIMIT 2" in ctx.captured_queries[0]["sql"]
    assert "reltuples" in ctx.captured_queries[1]["sql"]
    with django_assert_num_queries(2) as ctx:
        count, is_estimate = estimated_count(OrderIssue.objects.filter(priority="medium"), threshold=0)
    assert ctx.captured_queries[1]["sql"].startswith("EXPLAIN")
    assert is_estimate
    assert count >= 1


@pytest.mark.postgres("estimates come from PostgreSQL's planner statistics")
def test_small_results_cost_one_bounded_query_on_postgresql(django_assert_num_queries):
    make_issues(3)
    with django_assert_num_queries(1) as ctx:
        assert estimated_count(OrderIssue.objects.filter(priority="medium")) == (3, False)
    assert "LIMIT 1001" in ctx.captured_queries[0]["sql"]
