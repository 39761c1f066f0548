from appeasements.services import appeasement_refunds_sync_behind
from config.sweep_command import SweepCommand


class Command(SweepCommand):
    help = (
        "Bring up to date the appeasement refunds still INCOMPLETE whose ledger refund settled longer than "
        "--older-than-minutes ago (REFUNDS_STUCK_AFTER_MINUTES, default 15): their sync job was lost. Safe to run "
        "every few minutes, on any node."
    )
    threshold_setting = "REFUNDS_STUCK_AFTER_MINUTES"
    done = "{count} appeasement refunds brought up to date"

    def sweep(self, older_than):
        return appeasement_refunds_sync_behind(older_than=older_than)
