from config.sweep_command import SweepCommand
from orders.services import refunds_retry_stuck


class Command(SweepCommand):
    help = (
        "Send again refunds left 'pending' (their job was lost) or 'processing' (their worker died) for longer than "
        "--older-than-minutes (REFUNDS_STUCK_AFTER_MINUTES, default 15). Safe to run every few minutes, on any node."
    )
    threshold_setting = "REFUNDS_STUCK_AFTER_MINUTES"
    done = "{count} stuck refunds sent again"

    def sweep(self, older_than):
        return refunds_retry_stuck(older_than=older_than)
