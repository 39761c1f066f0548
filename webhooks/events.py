"""What each event type carries: the REST representation of its object, read as the API reads it.

Each app registers how its models appear (``register``, from its ``AppConfig.ready`` and its own
``events.py``), which accounts it knows (``register_account_source``) and, for orders, the lock that keeps an
order's events in commit order (``register_stream_lock``): webhooks imports no domain app.

``describe(obj)`` returns ``(data, account, order_id)``. Data is rendered inside the transaction that made the
change, so it is the object as that change left it (a snapshot, not what it is at delivery). Representations
that do not name their order (items, refunds) gain ``order_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Described = tuple[dict[str, Any], str, str]
Describer = Callable[[Any], Described]

_DESCRIBERS: dict[str, Describer] = {}
_ACCOUNT_SOURCES: list[Callable[[str], bool]] = []
_STREAM_LOCK: list[Callable[[str], None]] = []


def register(describers: dict[str, Describer]) -> None:
    """``{"app_label.Model": describer}``: how instances of each model appear in an event."""
    for label, describer in describers.items():
        if _DESCRIBERS.get(label, describer) is not describer:
            raise ValueError(f"A webhook representation of {label} is registered already")
        _DESCRIBERS[label] = describer


def describe(obj) -> Described:
    """The (data, account, order id) of a model instance, by its model."""
    label = obj._meta.label
    describer = _DESCRIBERS.get(label)
    if describer is None:
        raise TypeError(f"No webhook representation for {label}")
    return describer(obj)


def register_account_source(knows: Callable[[str], bool]) -> None:
    """``knows(account)``: whether the app has data of that account (an order, an API key): a subscription may only
    name an account some app knows."""
    if knows not in _ACCOUNT_SOURCES:
        _ACCOUNT_SOURCES.append(knows)


def account_known_by_an_app(account: str) -> bool:
    return any(knows(account) for knows in _ACCOUNT_SOURCES)


def register_stream_lock(lock: Callable[[str], None]) -> None:
    """``lock(order_id)``: the row lock that serializes one order's changes (orders registers its order row), taken
    by ``event_emit`` so an order's events commit in sequence."""
    _STREAM_LOCK[:] = [lock]


def stream_lock(order_id: str) -> None:
    for lock in _STREAM_LOCK:
        lock(order_id)
