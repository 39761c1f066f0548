"""Time the issue metrics at scale: p50 of 5 runs, without and with date bounds, fast path beside the reference.

    .venv/bin/python -m tests.bench.metrics_data --db h_metrics_1m      # once: ~1M issues in a few minutes
    .venv/bin/python -m tests.bench.bench_metrics --db h_metrics_1m

Each case prints the p50 and max of ``issue_metrics`` (what the API and the dashboard call), its query count,
and checks the answer against ``issue_metrics_reference`` (the from-scratch computation), whose time is
printed too unless ``--no-reference``.
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
    args = parser.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", f"postgres://{args.user}@{args.host}:5432/{args.db}")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from issues.models import OrderIssue
    from issues.selectors import issue_metrics, issue_metrics_reference

    now = datetime.now(UTC)
    print(f"{connection.settings_dict['NAME']}: {OrderIssue.objects.count():,} issues", flush=True)
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
        line = f"{label:>20}: p50 {statistics.median(times) * 1000:7.1f} ms, max {max(times) * 1000:7.1f} ms, "
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
        f"target: p50 under 1 s at 1M issues, exactly the reference's answer: slowest p50 {slowest * 1000:.0f} ms, "
        f"{failures} different answers: {'holds' if holds == 'yes' else 'does not hold'}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
