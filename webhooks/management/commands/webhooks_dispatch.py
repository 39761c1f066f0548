"""Run beside the worker (or from cron): fan out undispatched events and re-enqueue deliveries nobody
is working on (due retries, deliveries whose worker died). ``--loop`` keeps it running."""

import time

from django.core.management.base import BaseCommand

from webhooks.services import deliveries_sweep, outbox_dispatch


class Command(BaseCommand):
    help = "Dispatch the webhook outbox and re-enqueue due or abandoned deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Repeat every --interval seconds.")
        parser.add_argument("--interval", type=float, default=15.0)

    def handle(self, *args, loop: bool, interval: float, **options):
        while True:
            events = outbox_dispatch()
            streams = deliveries_sweep()
            if options["verbosity"] > 1 or not loop:
                self.stdout.write(f"{events} events dispatched, {streams} streams enqueued")
            if not loop:
                return
            time.sleep(interval)
