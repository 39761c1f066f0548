"""E-mail notifications whose job was lost. Safe to run every few minutes, on any node."""

from config.sweep_command import SweepCommand
from issues.sweeps import notifications_resend


class Command(SweepCommand):
    help = "E-mail the notifications of the last day never e-mailed (NOTIFICATIONS_RESEND_AFTER_MINUTES after)."
    threshold_setting = "NOTIFICATIONS_RESEND_AFTER_MINUTES"
    done = "{count} pending notification(s) e-mailed"

    def sweep(self, older_than):
        return notifications_resend(older_than=older_than)
