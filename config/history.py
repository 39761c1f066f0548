"""Saving tracked rows with the acting employee and a change reason (simple-history)."""

from __future__ import annotations

from django.db import models


def save_with_history(obj: models.Model, *, actor, reason: str, **save_kwargs) -> None:
    obj._history_user = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    obj._change_reason = reason[:100]
    obj.save(**save_kwargs)
