"""Wait until the database answers and every migration is applied (``/readyz``'s migrations check), then exit 0;
exit 1 after ``--timeout`` seconds. The Procfile starts each long-running process with it, so that under ``honcho
start`` (every process at once) none starts before the release step migrated; after a release it returns at once."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from config.health import check_migrations


class Command(BaseCommand):
    help = "Wait until every migration is applied (the release step ran), then exit."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait at most (default 300).")

    def handle(self, *args, timeout: float, **options):
        deadline = time.monotonic() + timeout
        said = ""
        while True:
            try:
                check_migrations()
                return
            except Exception as exc:  # noqa: BLE001 - not reachable yet, or not migrated yet: wait and say why
                close_old_connections()
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if why != said:
                    self.stderr.write(f"Waiting for the release step: {why}")
                    said = why
            if time.monotonic() >= deadline:
                raise CommandError(f"The migrations were not applied within {timeout:.0f} s (run the release step).")
            time.sleep(1)
