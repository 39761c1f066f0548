"""The audit trail (simple-history): the history of tracked models, and saving rows with the acting employee
and a change reason."""

from __future__ import annotations

from django.db import models
from simple_history import models as simple_history


class HistoricalRecords(simple_history.HistoricalRecords):
    """simple-history's ``HistoricalRecords`` with history tables indexed for how the audit trail is read.

    simple-history copies every index of the tracked model onto its history table (each foreign key, each
    unique public id, each ``db_index`` field). The history is only read by the tracked row (``id``, newest
    first by ``history_date``: the admin's history page, ``/history`` of an issue) and by the employee who
    wrote it (``history_user``); those three keep their indexes, and no copied index is kept. Each of the
    others was one more index to write for every history row (6 of 9 on issues) and served no query.
    """

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


def save_with_history(obj: models.Model, *, actor, reason: str, **save_kwargs) -> None:
    obj._history_user = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    obj._change_reason = reason[:100]
    obj.save(**save_kwargs)
