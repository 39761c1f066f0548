"""The scheduler process: runs the periodic commands (settings.SCHEDULER_JOBS) on their intervals, on any number of
nodes at once (config/scheduler.py). ``--once``: one pass over the due jobs, then exit."""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from config.scheduler import jobs, run_due


class Command(BaseCommand):
    help = "Run the periodic commands on their intervals (a database lock per job: safe with several copies)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass over the due jobs, then exit.")
        parser.add_argument("--force", action="store_true", help="With --once: run the jobs even if not due.")
        parser.add_argument("--job", action="append", default=[], help="Only this job (repeatable).")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between passes (default 5).")

    def handle(self, *args, once: bool, force: bool, job: list[str], tick: float, **options):
        known = {j.name for j in jobs()}
        unknown = sorted(set(job) - known)
        if unknown:
            raise CommandError(f"Unknown job(s): {', '.join(unknown)}. Jobs: {', '.join(sorted(known))}")
        if force and not once:
            raise CommandError("--force goes with --once")
        stopping = []
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.append(True))
        while True:
            if not once:
                close_old_connections()  # a long-running process: drop connections past CONN_MAX_AGE or broken
            results = run_due(only=job or None, force=force)
            if once or options["verbosity"] > 1:
                for name, result in results.items():
                    self.stdout.write(f"{name}: {result}")
            if once:
                return
            deadline = time.monotonic() + tick
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, tick))
            if stopping:
                self.stdout.write("scheduler: stopped")
                return
