"""The metrics rollup (issues/metrics.py) never drifts from a from-scratch computation, whoever writes.

After a random mix of writes (services and direct ORM writes, as bulk paths and tests do): the rollup equals a
rebuild from scratch, and ``issue_metrics`` equals ``issue_metrics_reference`` for several ranges and moments.
Plus the number of queries of the metrics endpoint, which must not grow with the issues."""

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from config.errors import DomainError
from issues import metrics
from issues.models import (
    IssueMetricsCustomer,
    IssueMetricsCustomerDelta,
    IssueMetricsDelta,
    IssueMetricsRollup,
    OrderIssue,
)
from issues.selectors import issue_metrics, issue_metrics_reference
from issues.services import issue_update
from orders.models import OrderItem, Refund
from orders.services import refund_record
from tests.factories import CategoryFactory, issue_factory, order_with_items

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the rollup is kept by PostgreSQL triggers; SQLite computes live"
)


def folded(key: str, cutoff: str) -> str:
    """An SLA key as compaction folds it: deadline hours before the cutoff read as breached (``1``)."""
    return "|".join("1" if len(part) > 1 and part < cutoff else part for part in key.split("|"))


def snapshot() -> tuple[set, set]:
    """What the tables count per key: the compacted rows plus the deltas not compacted yet (read only), with the
    SLA keys folded as compaction and rebuild fold them."""
    cutoff = metrics.fold_cutoff(timezone.now())["cutoff"]
    rollup, customers = Counter(), Counter()
    for model in (IssueMetricsRollup, IssueMetricsDelta):
        for r in model.objects.all():
            key = folded(r.key, cutoff) if r.metric == "sla_clock" else r.key
            rollup[(r.day, r.metric, key, "n")] += r.n
            rollup[(r.day, r.metric, key, "amount")] += r.amount
    for model in (IssueMetricsCustomer, IssueMetricsCustomerDelta):
        for c in model.objects.all():
            customers[c.email] += c.n
    keys = {(day, metric, key) for day, metric, key, _ in rollup}
    return (
        {(*k, rollup[(*k, "n")], rollup[(*k, "amount")]) for k in keys if rollup[(*k, "n")] or rollup[(*k, "amount")]},
        {(email, n) for email, n in customers.items() if n},
    )


def random_writes(rnd: random.Random, agent, manager, *, steps: int) -> None:
    now = timezone.now()
    categories = [CategoryFactory(name=f"Category {n}") for n in range(3)]
    orders = [
        order_with_items(items=2, customer_email=f"c{n % 13}@example.com" if n % 5 else "", unit_price=Decimal(50))
        for n in range(18)
    ]
    for order in orders:
        for item in order.items.all():
            item.sku = f"SKU-{rnd.randint(1, 4)}"
            item.category = rnd.choice([*categories, None])
            item.save()
    issues: list[OrderIssue] = []
    targets = ["investigating", "in_progress", "resolved", "closed", "escalated", "open"]
    for _ in range(steps):
        action = rnd.randrange(11)
        try:
            with transaction.atomic():
                if action <= 1 or not issues:
                    order = rnd.choice(orders)
                    issue = issue_factory(order, priority=rnd.choice(["low", "medium", "high", "critical"]))
                    issue.affected_items.add(*rnd.sample(list(order.items.all()), rnd.randint(0, 2)))
                    issues.append(issue)
                    continue
                issue = OrderIssue.objects.get(pk=rnd.choice(issues).pk)
                order_id, issue_id = issue.order.order_id, issue.issue_id
                if action == 2:  # a status move through the service
                    changes = {"status": rnd.choice(targets), "notes": "moving on"}
                    issue_update(order_id=order_id, issue_id=issue_id, actor=manager, changes=changes)
                elif action == 3:  # satisfaction, follow-ups, priority through the service
                    changes = rnd.choice(
                        [
                            {"customer_satisfied": rnd.choice([True, False])},
                            {"follow_up_required": True, "follow_up_date": now + timedelta(hours=rnd.randint(1, 50))},
                            {"follow_up_required": False},
                            {"priority": rnd.choice(["low", "medium", "high", "critical"])},
                        ]
                    )
                    issue_update(order_id=order_id, issue_id=issue_id, actor=agent, changes=changes)
                elif action == 4:  # a refund for the issue (sometimes failed later)
                    refund = refund_record(
                        order=issue.order,
                        actor=agent,
                        amount=Decimal(rnd.randint(1, 300)) / 100,
                        source=rnd.choice(["merchant", "platform"]),
                        cause_type="issue",
                        cause_id=issue_id,
                    )
                    if rnd.random() < 0.3:
                        Refund.objects.filter(pk=refund.pk).update(status="failed")
                elif action == 5:  # direct writes, as tests and bulk paths do
                    shift = timedelta(days=rnd.randint(-40, 0), hours=rnd.randint(-23, 23))
                    created = now + shift
                    OrderIssue.objects.filter(pk=issue.pk).update(
                        created_at=created,
                        resolved_at=created + timedelta(hours=rnd.randint(1, 100)) if rnd.random() < 0.5 else None,
                        first_response_due_at=created + timedelta(hours=rnd.randint(1, 60)),
                        resolution_due_at=created + timedelta(hours=rnd.randint(1, 200)),
                        first_response_at=rnd.choice([None, created + timedelta(hours=rnd.randint(0, 30))]),
                    )
                elif action == 6:  # affected items change
                    items = list(issue.order.items.all())
                    if rnd.random() < 0.5:
                        issue.affected_items.set(rnd.sample(items, rnd.randint(0, len(items))))
                    else:
                        issue.affected_items.clear()
                elif action == 7:  # an item's SKU or category changes
                    item = rnd.choice(list(OrderItem.objects.filter(order=issue.order)))
                    OrderItem.objects.filter(pk=item.pk).update(
                        sku=f"SKU-{rnd.randint(1, 4)}", category=rnd.choice([*categories, None])
                    )
                elif action == 8:  # the customer's e-mail changes
                    type(issue.order).objects.filter(pk=issue.order_id).update(
                        customer_email=rnd.choice(["", "c1@example.com", "new@example.com"])
                    )
                elif action == 9:  # waiting on the customer, set directly
                    OrderIssue.objects.filter(pk=issue.pk).update(
                        sla_paused_since=now - timedelta(hours=rnd.randint(1, 10)),
                        follow_up_date=now + timedelta(hours=rnd.randint(-5, 10)),
                    )
                else:  # deletion
                    issue.affected_items.clear()
                    issue.notes.all().delete()
                    issue.approval_requests.all().delete()
                    OrderIssue.history.filter(id=issue.pk).delete()
                    gone = issue.pk
                    issue.delete()
                    issues = [i for i in issues if i.pk != gone]
        except DomainError:
            pass


@postgres_only
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_matches_a_rebuild_and_the_reference_after_random_writes(seed, agent, manager, monkeypatch):
    # given
    random_writes(random.Random(seed), agent, manager, steps=200)
    # then: the triggers kept exactly what a rebuild computes
    kept = snapshot()
    metrics.rebuild()
    assert snapshot() == kept
    # and the fast path answers as the reference, for ranges with and without partial days, at several moments
    now = timezone.now()
    ranges = [
        {},
        {"created_after": now - timedelta(days=10, hours=5)},
        {"created_before": now - timedelta(days=3, minutes=7)},
        {"created_after": now - timedelta(days=30, hours=1), "created_before": now - timedelta(days=2, hours=3)},
        {"created_after": datetime(2020, 1, 1, tzinfo=UTC), "created_before": now.replace(hour=0, minute=0)},
        {"created_after": now - timedelta(hours=3), "created_before": now},
    ]
    for moment, bounds in itertools.product(
        (now, now - timedelta(days=2), now + timedelta(hours=30), now + timedelta(days=20)), ranges
    ):
        for candidates in (1, 10, 12, 200):  # few: often the live count of top customers; many: candidates settle it
            monkeypatch.setattr(metrics, "CANDIDATES", candidates)
            expected = issue_metrics_reference(now=moment, **bounds)
            assert issue_metrics(now=moment, **bounds) == expected, (moment, bounds)


@postgres_only
def test_rebuild_repairs_a_rollup_that_was_bypassed(agent, manager):
    random_writes(random.Random(7), agent, manager, steps=40)
    kept = snapshot()
    IssueMetricsRollup.objects.all().delete()
    IssueMetricsCustomer.objects.all().delete()
    metrics.rebuild()
    assert snapshot() == kept


def test_metrics_endpoint_runs_a_fixed_number_of_queries(api, manager, django_assert_num_queries):
    order = order_with_items(customer_email="a@example.com")
    client = api(manager)

    def create(n):
        for _ in range(n):
            issue = issue_factory(order)
            issue.affected_items.add(order.items.first())
            created = timezone.now() - timedelta(days=3)
            OrderIssue.objects.filter(pk=issue.pk).update(created_at=created, resolved_at=created + timedelta(hours=2))

    params = {"created_after": (timezone.now() - timedelta(days=9, hours=2)).isoformat().replace("+00:00", "Z")}
    create(1)
    with django_assert_num_queries(12) as unbounded:  # 10 for the metrics, as the reference (tests/issues)
        assert client.get("/api/v1/issues/metrics").status_code == 200
    with django_assert_num_queries(12) as bounded:
        assert client.get("/api/v1/issues/metrics", params).status_code == 200
    create(29)
    with django_assert_num_queries(len(unbounded)):
        assert client.get("/api/v1/issues/metrics").json()["total"] == 30
    with django_assert_num_queries(len(bounded)):
        assert client.get("/api/v1/issues/metrics", params).json()["total"] == 30


@postgres_only
@pytest.mark.parametrize("seed", [4, 5])
def test_compaction_between_random_writes_keeps_the_answer(seed, agent, manager, monkeypatch):
    rnd = random.Random(seed)
    random_writes(rnd, agent, manager, steps=100)
    folded = metrics.compact()
    assert folded is not None
    assert folded[0] > 0
    assert not IssueMetricsDelta.objects.exists()
    assert not IssueMetricsCustomerDelta.objects.exists()
    # one row per key once compacted, none at zero
    assert IssueMetricsRollup.objects.count() == len(
        set(IssueMetricsRollup.objects.values_list("day", "metric", "key"))
    )
    assert not IssueMetricsRollup.objects.filter(n=0, amount=0).exists()
    assert not IssueMetricsCustomer.objects.filter(n=0).exists()
    random_writes(rnd, agent, manager, steps=100)  # deltas on top of the compacted rows
    assert IssueMetricsDelta.objects.exists()

    now = timezone.now()
    ranges = [
        {},
        {"created_after": now - timedelta(days=12, hours=5)},
        {"created_after": now - timedelta(days=30, hours=1), "created_before": now - timedelta(days=2, hours=3)},
        {"created_after": now - timedelta(hours=3), "created_before": now},
    ]

    def answers_as_the_reference():
        for moment, bounds in itertools.product((now, now + timedelta(days=20)), ranges):
            for candidates in (1, 12, 200):
                monkeypatch.setattr(metrics, "CANDIDATES", candidates)
                expected = issue_metrics_reference(now=moment, **bounds)
                assert issue_metrics(now=moment, **bounds) == expected, (moment, bounds, candidates)

    answers_as_the_reference()  # compacted rows plus pending deltas
    kept = snapshot()
    metrics.compact()
    assert snapshot() == kept
    assert not IssueMetricsDelta.objects.exists()
    answers_as_the_reference()  # compacted only
    metrics.rebuild()
    assert snapshot() == kept


@postgres_only
def test_compact_with_nothing_to_fold(db):
    assert metrics.compact() == (0, 0)


@postgres_only
def test_a_big_compaction_leaves_fresh_planner_statistics(db, monkeypatch):
    """After folding many deltas (a bulk load) the planner knows the deltas are gone and the rollup has grown:
    stale counts would plan the metrics' reads for deltas that are no longer there."""
    monkeypatch.setattr(metrics, "ANALYZE_ABOVE", 500)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {metrics.DELTAS} (day, metric, key, n, amount) "
            "SELECT DATE '2026-01-01', 'type', 'k' || i, 1, 0 FROM generate_series(1, 600) AS i"
        )
        cursor.execute(
            f"INSERT INTO {metrics.CUSTOMER_DELTAS} (email, n) "
            "SELECT i || '@x.test', 1 FROM generate_series(1, 100) AS i"
        )
        cursor.execute(f"ANALYZE {metrics.DELTAS}, {metrics.ROLLUP}")

        def rows(table: str) -> float:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            return cursor.fetchone()[0]

        assert rows(metrics.DELTAS) == 600
        customers_before = rows(metrics.CUSTOMER_DELTAS)
        assert metrics.compact() == (600, 100)
        assert rows(metrics.DELTAS) == 0
        assert rows(metrics.ROLLUP) == 600
        assert rows(metrics.CUSTOMER_DELTAS) == customers_before  # 100 folded rows: below the threshold


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_big_compaction_vacuums_the_deltas_it_deleted(monkeypatch):
    """Folded deltas are dead rows that each read of the metrics would scan until autovacuum comes: a big fold
    vacuums them away (the emptied table gives its pages back)."""
    monkeypatch.setattr(metrics, "ANALYZE_ABOVE", 500)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {metrics.DELTAS} (day, metric, key, n, amount) "
            "SELECT DATE '2026-01-01', 'type', 'k' || (i % 7), 1, 0 FROM generate_series(1, 5000) AS i"
        )
        cursor.execute("SELECT pg_relation_size(%s)", [metrics.DELTAS])
        assert cursor.fetchone()[0] > 0
        assert metrics.compact()[0] == 5000
        cursor.execute("SELECT pg_relation_size(%s)", [metrics.DELTAS])
        assert cursor.fetchone()[0] == 0


@postgres_only
def test_sla_deadlines_around_now_and_the_fold(db, monkeypatch):
    """Running clocks are keyed by their deadline's hour: those before now's hour count as breached from the
    rollup, after it as not, within it live (to the minute); compaction folds hours older than FOLD_AFTER."""
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    order = order_with_items(customer_email="hours@example.com")
    created = now - timedelta(days=20)  # whole days of the range: the rollup's part, not the partial ends
    deadlines = [
        now - timedelta(days=15),  # long past: folded into "breached" by compaction
        now - timedelta(hours=1, minutes=5),  # an earlier hour
        now - timedelta(minutes=10),  # this hour, passed
        now + timedelta(minutes=10),  # this hour, to come
        now + timedelta(hours=2),  # a later hour
    ]
    for due in deadlines:
        for clock in ("first_response_due_at", "resolution_due_at"):
            issue = issue_factory(order)
            other = "resolution_due_at" if clock == "first_response_due_at" else "first_response_due_at"
            OrderIssue.objects.filter(pk=issue.pk).update(
                created_at=created, **{clock: due, other: now + timedelta(days=30)}
            )
    # deadlines two days ahead in hours whose last digit is 1 (01, 11, 21): not breached, whatever the key's last
    # character says
    for hour in (1, 11, 21):
        issue = issue_factory(order)
        due = (now + timedelta(days=2)).replace(hour=hour)
        OrderIssue.objects.filter(pk=issue.pk).update(
            created_at=created, first_response_due_at=due, resolution_due_at=due
        )
    waiting = issue_factory(order)  # waiting on the customer: no key, always live
    OrderIssue.objects.filter(pk=waiting.pk).update(
        created_at=created,
        resolution_due_at=now - timedelta(hours=6),
        sla_paused_since=now - timedelta(hours=5),
        follow_up_date=now + timedelta(hours=5),
    )
    bounds = {"created_after": (now - timedelta(days=30)).replace(hour=0, minute=0)}

    def answer(moment):
        expected = issue_metrics_reference(now=moment, **bounds)
        assert issue_metrics(now=moment, **bounds) == expected, moment
        return expected["sla"]

    # the reference's own figures: 3 first-response and 3 resolution deadlines passed, plus the waiting issue
    # (its deadline passed before it began to wait)
    assert answer(now) == {"breached": 7, "first_response_breached": 3, "resolution_breached": 4, "rate": 0.5}
    for moment in (now - timedelta(minutes=25), now + timedelta(minutes=25), now + timedelta(hours=3)):
        answer(moment)

    # compaction folds the hour of fifteen days ago (both clocks) into "1", keeps the recent hours
    metrics.compact()
    keys = set(IssueMetricsRollup.objects.filter(metric="sla_clock").values_list("key", flat=True))
    stale = metrics.hour_key(now - timedelta(days=15))
    assert not any(stale in key for key in keys), keys
    assert any(metrics.hour_key(now) in key for key in keys), keys
    assert answer(now) == {"breached": 7, "first_response_breached": 3, "resolution_breached": 4, "rate": 0.5}
    # the key the previous release reads is still kept, one per issue not waiting (a rolling deploy reads it)
    old_keys = IssueMetricsRollup.objects.filter(metric="sla").values_list("key", "n")
    assert sum(n for _, n in old_keys) == 13
    assert all(len(key.split("|")[1]) == 2 for key, _ in old_keys)  # "<settle day>|<two outcomes>"

    # a now before what compaction may have folded is not read from the rollup: computed live
    def no_rollup(**kwargs):
        raise AssertionError("the rollup cannot answer for a now before its folded hours")

    monkeypatch.setattr(metrics, "issue_metrics_fast", no_rollup)
    past = answer(now - timedelta(days=16))
    assert past["breached"] == 0


def _bucket(seconds: float) -> int:
    """issue_metrics_bucket in Python: whole seconds below 16, else eight steps to each doubling."""
    s = int(seconds // 1)
    if s < 16:
        return s
    step = 1 << (s.bit_length() - 4)
    return s - s % step


@postgres_only
def test_resolution_time_buckets_are_exact_and_ordered(db):
    samples = [
        -3.5,
        0.0,
        0.999,
        15.2,
        16.0,
        17.0,
        31.99,
        32.0,
        33.0,
        35.5,
        7199.5,
        7200.0,
        86400 * 3 + 0.25,
        2.0**40 + 12345,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, issue_metrics_bucket(make_interval(secs => s)) FROM unnest(%s::float8[]) AS t(s)", [samples]
        )
        got = dict(cursor.fetchall())
    assert got == {s: _bucket(s) for s in samples}
    assert [got[s] for s in (16, 17, 31.99, 32, 33, 35.5)] == [16, 16, 30, 32, 32, 32]
    # a bucket's value is in its own bucket, and every value below it is in an earlier one
    for s in samples:
        assert _bucket(got[s]) == got[s] <= s


@postgres_only
def test_percentiles_across_buckets_match_the_reference(db):
    """Medians and 90th percentiles whose two rows lie in different buckets, in one bucket, with equal durations
    and under 16 seconds, over whole days and partial ones."""
    now = timezone.now()
    order = order_with_items()
    durations = [timedelta(seconds=s) for s in (5, 9, 9, 31, 32, 33, 95, 3600, 3601, 7200, 86400 * 2 + 7)]
    for n, duration in enumerate(durations):
        created = now - timedelta(days=3 + n % 4, hours=n)
        issue = issue_factory(order)
        OrderIssue.objects.filter(pk=issue.pk).update(created_at=created, resolved_at=created + duration)
    for bounds in (
        {},
        {"created_after": now - timedelta(days=5, hours=7)},
        {"created_before": now - timedelta(days=4)},
    ):
        for count in range(len(durations)):
            expected = issue_metrics_reference(now=now, **bounds)["time_to_resolution"]
            assert issue_metrics(now=now, **bounds)["time_to_resolution"] == expected, (bounds, count)
            first = OrderIssue.objects.filter(resolved_at__isnull=False).order_by("pk").first()
            if first is None:
                break
            OrderIssue.objects.filter(pk=first.pk).update(resolved_at=None)  # one fewer each round
