"""What deciding an approval request does, for requests that are not an issue's own status move: one home, with a
handler registered by each app that opens such requests (in its ``AppConfig.ready``), so the approval queue
imports none of them.

A handler is ``handler(*, approval, actor, approve, note)``, called by ``issues.services.approval_decide`` inside
the decision's transaction, before the request is saved: a domain error refuses the decision and changes nothing.
It is found by the request's ``kind`` and ``target_type``, else by its ``kind`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]

_HANDLERS: dict[tuple[str, str | None], Handler] = {}
_ORDER_FINDERS: dict[str, Callable[[str], Any]] = {}


def register(kind: str, handler: Handler, *, target_type: str | None = None) -> None:
    """``handler`` decides requests of ``kind`` (about ``target_type`` only, when given)."""
    key = (str(kind), target_type)
    if _HANDLERS.get(key, handler) is not handler:
        raise ValueError(f"An approval handler for {key} is registered already")
    _HANDLERS[key] = handler


def handler_for(approval) -> Handler | None:
    """The handler deciding ``approval``, or None (an issue's own status move, decided by the queue itself)."""
    return _HANDLERS.get((approval.kind, approval.target_type)) or _HANDLERS.get((approval.kind, None))


def register_order_finder(target_type: str, order_of: Callable[[str], Any]) -> None:
    """``order_of(target_id)`` finds the order a request about a ``target_type`` concerns (its webhook events carry
    that order's account)."""
    _ORDER_FINDERS[target_type] = order_of


def order_finder(target_type: str) -> Callable[[str], Any] | None:
    return _ORDER_FINDERS.get(target_type)
