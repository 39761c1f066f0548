"""What webhooks tells the apps above it, without importing them: they connect receivers in their ``ready``.

- ``subscription_disabled(sender=Subscription, subscription=..., message=...)``: deliveries failed so often that
  the subscription was switched off; sent inside the transaction that records it (issues notifies the managers
  and administrators, kind ``webhook_disabled``).
"""

from django.dispatch import Signal

subscription_disabled = Signal()
