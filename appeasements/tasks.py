"""Background work for appeasements: following the ledger refunds behind appeasement refunds. The task is defined
beside the service it runs (``appeasements.services``); this name stays for jobs queued under it."""

from appeasements.services import sync_refund_states

__all__ = ["sync_refund_states"]
