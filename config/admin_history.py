"""History for admin pages that save rows themselves (managed lists with no service of their own)."""

from __future__ import annotations


class ChangeReasonAdminMixin:
    """Put before ``SimpleHistoryAdmin``: it names the employee as the history user; this adds the change
    reason (what the form did) to saves and deletions, and deletes the rows of ``delete_selected`` one by
    one so each deletion's history row has both (a queryset delete would have no reason)."""

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            reason = "Admin: added"
        elif form.changed_data:
            reason = "Admin: changed " + ", ".join(form.changed_data)
        else:
            reason = "Admin: saved unchanged"
        obj._change_reason = reason[:100]
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        obj._history_user = request.user
        obj._change_reason = "Admin: deleted"
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
