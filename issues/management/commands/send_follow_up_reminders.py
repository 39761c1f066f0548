"""Notify assignees of due follow-ups, once per issue and follow-up date. Safe to run every few minutes."""

from django.core.management.base import BaseCommand

from issues.services import follow_up_reminders_send


class Command(BaseCommand):
    help = "Notify assignees of follow-ups that are due (each reminder is sent once)."

    def handle(self, *args, **options):
        sent = follow_up_reminders_send()
        self.stdout.write(f"{sent} follow-up reminder(s) sent")
