from django.core.management.base import BaseCommand

from config.idempotency import prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL_HOURS (24 by default)."

    def handle(self, *args, **options):
        deleted = prune()
        self.stdout.write(f"Pruned {deleted} expired idempotency key(s).")
