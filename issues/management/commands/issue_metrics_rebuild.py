"""Recompute the issue metrics rollup from scratch (PostgreSQL; a no-op elsewhere)."""

import time

from django.core.management.base import BaseCommand

from issues import metrics


class Command(BaseCommand):
    help = (
        "Recompute the issue metrics rollup and per-customer counts from the issues. Triggers keep them right on "
        "every write; run this after anything that bypassed triggers (TRUNCATE, a partial restore)."
    )

    def handle(self, *args, **options) -> None:
        if not metrics.enabled():
            self.stdout.write("Not PostgreSQL: the metrics are computed live, nothing to rebuild.")
            return
        started = time.monotonic()
        metrics.rebuild()
        self.stdout.write(f"Issue metrics rollup rebuilt in {time.monotonic() - started:.1f}s")
