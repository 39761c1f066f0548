"""Public identifiers: stable strings in the contracts' shapes, never the primary key."""

import secrets


def new_order_id() -> str:
    """``1626-4972-66351``: 4-4-5 random digits (unguessable, not a sequence)."""
    digits = "".join(secrets.choice("0123456789") for _ in range(13))
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def new_prefixed_id(prefix: str, nbytes: int = 9) -> str:
    """``issue_4kq...``, ``rf_...``: a prefix and a random URL-safe token."""
    return f"{prefix}{secrets.token_hex(nbytes)}"


def new_refund_id() -> str:
    return new_prefixed_id("rf_")
