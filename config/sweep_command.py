"""The base of the sweep commands: work whose job was lost, found again past a threshold (docs/adr/0014)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand


class SweepCommand(BaseCommand):
    """``--older-than-minutes`` (default: the setting named ``threshold_setting``); ``sweep(older_than)`` does the
    work and returns a count that ``done`` (a format with ``{count}``) reports."""

    threshold_setting = ""
    done = "{count}"

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=float, default=None)

    def sweep(self, older_than: timedelta) -> int:
        raise NotImplementedError

    def handle(self, *args, older_than_minutes: float | None, **options):
        minutes = getattr(settings, self.threshold_setting) if older_than_minutes is None else older_than_minutes
        self.stdout.write(self.done.format(count=self.sweep(timedelta(minutes=minutes))))
