"""Delete settled webhook events (and their delivery logs) older than --days (default 30). Run daily."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from webhooks.services import outbox_prune


class Command(BaseCommand):
    help = "Delete webhook events older than --days whose deliveries are all delivered or failed."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=30.0)

    def handle(self, *args, days: float, **options):
        total = 0
        while True:
            deleted = outbox_prune(older_than=timedelta(days=days))
            total += deleted
            if deleted == 0:
                break
        self.stdout.write(f"{total} webhook events deleted")
