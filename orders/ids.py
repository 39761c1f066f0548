"""Public identifiers of orders and refunds (the prefixed ids every app makes: ``config.ids``)."""

import secrets

from config.ids import new_prefixed_id


def new_order_id() -> str:
    """``1626-4972-66351``: 4-4-5 random digits (unguessable, not a sequence)."""
    digits = "".join(secrets.choice("0123456789") for _ in range(13))
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def new_refund_id() -> str:
    return new_prefixed_id("rf_")
