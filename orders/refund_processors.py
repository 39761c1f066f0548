"""Payment-provider refund processors. The setting REFUND_PROCESSOR picks one (dotted path)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ProcessorResult:
    ok: bool
    external_reference: str = ""
    failure_reason: str = ""


class SimulatedRefundProcessor:
    """Pretends to call the payment provider. Fails a configurable share of refunds
    (``SIMULATED_REFUND_FAILURE_RATE``) so the demo and tests can see failed refunds."""

    def refund(self, refund) -> ProcessorResult:
        rate = float(getattr(settings, "SIMULATED_REFUND_FAILURE_RATE", 0.0))
        if rate and random.random() < rate:  # noqa: S311 - a simulation, not security
            return ProcessorResult(ok=False, failure_reason="Simulated decline by the payment provider")
        return ProcessorResult(ok=True, external_reference=f"sim_{refund.refund_id}")


class AlwaysFailingRefundProcessor:
    def refund(self, refund) -> ProcessorResult:
        return ProcessorResult(ok=False, failure_reason="Declined by the payment provider")


def get_refund_processor():
    return import_string(settings.REFUND_PROCESSOR)()
