from datetime import timedelta

from django.core.management.base import BaseCommand

from orders.services import refunds_retry_stuck


class Command(BaseCommand):
    help = "Send again refunds left in 'processing' by a worker that died (safe to run every few minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=15)

    def handle(self, *args, older_than_minutes: int, **options):
        count = refunds_retry_stuck(older_than=timedelta(minutes=older_than_minutes))
        self.stdout.write(f"{count} stuck refunds sent again")
