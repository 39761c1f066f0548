"""On someone's behalf, a service account has at most an agent's permissions.

``config.people.resolve_actor`` hands a service account's on-behalf writes the employee it acts for, marked with
``acting_via``. Listed before Django's ``ModelBackend``, this backend answers every permission that only managers
hold with ``PermissionDenied`` for such an actor, which Django's ``has_perm`` takes as a final no: the FSM
transitions (close, direct escalation and reopening, leaving escalation), deciding approvals and changing another
agent's appeasement all need the manager's own credential, whatever the service account was granted.
"""

from __future__ import annotations

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
