"""On someone's behalf, a service account has at most an agent's permissions.

``config.people.resolve_actor`` hands a service account's on-behalf writes the employee it acts for, marked with
``acting_via``. Listed before Django's ``ModelBackend``, this backend answers every permission that only managers
hold with ``PermissionDenied`` for such an actor, which Django's ``has_perm`` takes as a final no: the FSM
transitions (close, direct escalation and reopening, leaving escalation), deciding approvals and changing another
agent's appeasement all need the manager's own credential, whatever the service account was granted.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from config.permissions import AGENT_PERMISSIONS, MANAGER_PERMISSIONS

MANAGER_ONLY_PERMISSIONS = frozenset(MANAGER_PERMISSIONS) - frozenset(AGENT_PERMISSIONS)


class OnBehalfPermissions:
    def authenticate(self, request, **credentials):
        return None  # never logs anyone in

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if getattr(user_obj, "acting_via", None) is not None and perm in MANAGER_ONLY_PERMISSIONS:
            raise PermissionDenied(f"{perm} needs the employee's own credential")
        return False  # everything else: as the other backends say


class EmployeeBackend(ModelBackend):
    """Django's ``ModelBackend`` (password login, ``has_perm``), reading a user's permissions in one query: the
    permissions granted to them and to their groups, as one ``UNION``. Django reads the two with two queries on
    every request that checks a permission; an API write checks at least one, so this is one round trip less on
    each. Superusers and inactive users are answered as Django answers them."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).order_by().values_list(*fields)
            groups = Permission.objects.filter(group__user=user_obj).order_by().values_list(*fields)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in own.union(groups)}
        return user_obj._perm_cache
