"""Admin plumbing shared by every app: FSM transition buttons that go through the services."""

from __future__ import annotations

import typing

from django.contrib import admin, messages
from django_fsm.admin import FSMAdminMixin

from config.errors import DomainError


class ServiceFSMAdminMixin(FSMAdminMixin):
    """django-fsm-2's transition buttons and forms, but applied by a service function.

    Subclasses implement ``apply_transition(request, obj, transition_name, form_data)`` and call
    the app's service there (one write path, DESIGN rule 1). Domain errors become admin messages.
    """

    def apply_transition(self, request, obj, transition_name: str, form_data: dict[str, typing.Any]):
        raise NotImplementedError

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:  # noqa: D401
        try:
            result = self.apply_transition(request, obj, transition_name, dict(kwargs or {}))
        except DomainError as err:
            self.message_user(request, f"{transition_name}: {err.message}", level=messages.ERROR)
            return False
        message = result if isinstance(result, str) else f"{self.get_fsm_label_by_name(obj, transition_name)}: done."
        self.message_user(request, message, level=messages.SUCCESS)
        return True

    def get_fsm_label_by_name(self, obj, transition_name: str) -> str:
        try:
            return self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name))
        except (AttributeError, TypeError, ValueError):
            return transition_name


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows rows and never edits, adds or deletes them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
