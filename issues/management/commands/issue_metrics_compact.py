"""Fold the issue metrics deltas into the rollup (PostgreSQL; a no-op elsewhere). Schedule every few minutes."""

import time

from django.core.management.base import BaseCommand

from issues import metrics


class Command(BaseCommand):
    help = (
        "Fold the deltas the metrics triggers append into the rollup, one row per day and key, without blocking "
        "writers. Safe to run at any time and concurrently (a second run returns at once); schedule it every few "
        "minutes so that the metrics read few deltas."
    )

    def handle(self, *args, **options) -> None:
        if not metrics.enabled():
            self.stdout.write("Not PostgreSQL: the metrics are computed live, nothing to compact.")
            return
        started = time.monotonic()
        folded = metrics.compact()
        if folded is None:
            self.stdout.write("Another compaction is running: nothing done.")
            return
        rollup, customers = folded
        self.stdout.write(
            f"Issue metrics compacted: {rollup} rollup and {customers} customer delta rows folded "
            f"in {time.monotonic() - started:.1f}s"
        )
