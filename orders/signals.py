"""What orders tells the apps above it, without importing them: they connect receivers in their ``AppConfig.ready``.

- ``refund_failed(sender=Refund, refund=...)``: the processor refused a refund; sent inside the transaction that
  records the failure, once per refund (issues notifies the requester and the issue's assignee).
"""

from django.dispatch import Signal

refund_failed = Signal()
