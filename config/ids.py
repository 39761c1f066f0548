"""Public identifiers every app makes: stable strings in the contracts' shapes, never the primary key."""

import secrets


def new_prefixed_id(prefix: str, nbytes: int = 9) -> str:
    """``issue_4kq...``, ``rf_...``: a prefix and a random URL-safe token."""
    return f"{prefix}{secrets.token_hex(nbytes)}"
