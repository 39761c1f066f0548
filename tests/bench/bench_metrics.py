"""Time the issue metrics at scale: p50 of 5 runs, without and with date bounds, fast path beside the reference.

    .venv/bin/python -m tests.bench.metrics_data --db h_metrics_1m      # once: ~1M issues in a few minutes
    .venv/bin/python -m tests.bench.bench_metrics --db h_metrics_1m

Each case prints the p50 and max of ``issue_metrics`` (what the API and the dashboard call), its query count,
and checks the answer against ``issue_metrics_reference`` (the from-scratch computation), whose time is
printed too unless ``--no-reference``.

``--pending N`` then appends N pairs of deltas that cancel out (what the triggers leave between two compactions
after heavy traffic: the answer stays the same), times the cases again uncompacted, and times the compaction.
``--bulk N`` times one ``INSERT`` of N issues with the metrics triggers and without them (rolled back);
``--bulk-only`` skips the rest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="h_metrics_1m")
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--user", default=os.environ.get("PGUSER", "postgres"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-reference", action="store_true", help="skip timing the from-scratch computation")
    parser.add_argument("--pending", type=int, default=0, help="then again with this many pairs of deltas")
    parser.add_argument("--bulk", type=int, default=0, help="time an INSERT of this many issues, triggers on/off")
    parser.add_argument("--bulk-only", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", f"postgres://{args.user}@{args.host}:5432/{args.db}")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from issues.models import OrderIssue

    now = datetime.now(UTC)
    print(f"{connection.settings_dict['NAME']}: {OrderIssue.objects.count():,} issues", flush=True)
    if args.bulk:
        bulk_insert(connection, args.bulk)
    if args.bulk_only:
        return 0
    failures = run_cases(args, now, "")
    if args.pending:
        from issues import metrics

        with connection.cursor() as cursor:
            started = time.perf_counter()
            add_pending(cursor, args.pending)
            print(f"appended {2 * args.pending:,} pending deltas in {time.perf_counter() - started:.1f}s", flush=True)
        failures += run_cases(args, now, "uncompacted, ")
        started = time.perf_counter()
        folded = metrics.compact()
        print(f"compaction: {folded} delta rows folded in {time.perf_counter() - started:.1f}s", flush=True)
        failures += run_cases(args, now, "compacted again, ")
    return 1 if failures else 0


def bulk_insert(connection, count: int) -> None:
    """One INSERT ... SELECT of ``count`` issues created now (copies of existing ones), with the metrics triggers
    and with them disabled; each rolled back."""
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, "issues_orderissue")
    columns = [f.name for f in table if f.name != "id"]
    values = [{"issue_id": "'bulk_' || id", "created_at": "now()", "updated_at": "now()"}.get(c, c) for c in columns]
    sql = (
        f"INSERT INTO issues_orderissue ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608 (fixed text)
        f"FROM issues_orderissue ORDER BY id LIMIT {int(count)}"
    )
    for attempt in range(2):
        for triggers in (True, False):
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                try:
                    if not triggers:
                        cursor.execute("ALTER TABLE issues_orderissue DISABLE TRIGGER issue_metrics_issue_insert")
                    started = time.perf_counter()
                    cursor.execute(sql)
                    elapsed = time.perf_counter() - started
                finally:
                    cursor.execute("ROLLBACK")
            label = "with the metrics trigger" if triggers else "without it"
            print(f"bulk insert of {count:,} issues (run {attempt + 1}) {label:>24}: {elapsed:.2f}s", flush=True)


def add_pending(cursor, pairs: int) -> None:
    """``pairs`` deltas of +1 and -1 on existing rollup and customer keys: the answer does not change."""
    cursor.execute(
        "INSERT INTO issues_issuemetricsdelta (day, metric, key, n, amount) "
        "SELECT r.day, r.metric, r.key, s.n, s.n * 1.5 FROM (SELECT day, metric, key FROM issues_issuemetricsrollup "
        "ORDER BY random() LIMIT %s) r CROSS JOIN (VALUES (1), (-1)) s(n)",
        [pairs],
    )
    cursor.execute(
        "INSERT INTO issues_issuemetricscustomerdelta (email, n) SELECT c.email, s.n FROM "
        "(SELECT email FROM issues_issuemetricscustomer ORDER BY random() LIMIT %s) c "
        "CROSS JOIN (VALUES (1), (-1)) s(n)",
        [max(1, pairs // 10)],
    )


def run_cases(args, now, prefix: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from issues.selectors import issue_metrics, issue_metrics_reference

    cases = {
        "no bounds": {},
        "last 30 days": {"created_after": now - timedelta(days=30, hours=5, minutes=7)},
        "a quarter, mid-year": {
            "created_after": now - timedelta(days=200, hours=3, seconds=11),
            "created_before": now - timedelta(days=110, minutes=41),
        },
        "almost everything": {"created_after": now - timedelta(days=400, hours=2, minutes=3), "created_before": now},
    }
    failures, slowest = 0, 0.0
    for label, bounds in cases.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                fast = issue_metrics(now=now, **bounds)
            times.append(time.perf_counter() - started)
        slowest = max(slowest, statistics.median(times))
        line = f"{prefix}{label:>20}: p50 {statistics.median(times) * 1000:7.1f} ms, max {max(times) * 1000:7.1f} ms, "
        line += f"{len(queries)} queries, total {fast['total']:,}"
        started = time.perf_counter()
        reference = issue_metrics_reference(now=now, **bounds)
        reference_time = time.perf_counter() - started
        if not args.no_reference:
            line += f"; reference {reference_time * 1000:7.1f} ms"
        same = fast == reference
        failures += not same
        line += "; same answer" if same else "; DIFFERENT ANSWER"
        print(line, flush=True)
        if not same:
            for key in reference:
                if fast.get(key) != reference[key]:
                    print(f"    {key}: fast {fast.get(key)!r}\n    {' ' * len(key)}  reference {reference[key]!r}")
    holds = "yes" if slowest < 1 and not failures else "no"
    print(
        f"{prefix}target: p50 under 1 s at 1M issues, exactly the reference's answer: slowest p50 "
        f"{slowest * 1000:.0f} ms, {failures} different answers: {'holds' if holds == 'yes' else 'does not hold'}"
    )
    return failures


if __name__ == "__main__":
    sys.exit(main())
