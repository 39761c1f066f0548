"""Employees: Django users whose username is the employee ID, in one of three roles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.errors import PermissionDenied, ValidationFailed
from config.permissions import AGENT_GROUP, MANAGER_GROUP, SERVICE_GROUP

ACT_ON_BEHALF_PERM = "orders.act_on_behalf"
ROLE_GROUPS = {
    "agent": [AGENT_GROUP],
    "manager": [AGENT_GROUP, MANAGER_GROUP],
    "service": [SERVICE_GROUP],
}
ROLES = tuple(ROLE_GROUPS)


def employee_get(employee_id: str) -> AbstractBaseUser | None:
    """The active employee with this ID, or None."""
    if not employee_id:
        return None
    return get_user_model().objects.filter(username=employee_id, is_active=True).first()


def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or _in_group(user, MANAGER_GROUP)))


def is_service(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(ACT_ON_BEHALF_PERM))


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_group_names_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._group_names_cache = cache
    return name in cache


def resolve_actor(*, user, employee_id: str | None, field: str = "updated_by"):
    """The employee a write is made as.

    The authenticated user, unless a service account names another employee. ``employee_id`` must
    name an active employee (a validation error otherwise) and equal the caller (403 otherwise).
    """
    if employee_id is None or employee_id == "":
        if employee_id == "":
            raise ValidationFailed.single(field, "Must be an employee ID")
        return user
    if employee_id == getattr(user, "username", None):
        return user
    employee = employee_get(employee_id)
    if employee is None:
        raise ValidationFailed.single(field, f"Unknown employee ID '{employee_id}'")
    if not is_service(user):
        raise PermissionDenied(
            f"{field} must be the authenticated employee ({user.username}); only service accounts act for others",
            field=field,
        )
    return employee


@transaction.atomic
def employee_upsert(*, employee_id: str, role: str, password: str | None = None, email: str = "") -> tuple:
    """Create or update an employee in ``role``; returns (user, api token key)."""
    if role not in ROLE_GROUPS:
        raise ValidationFailed.single("role", f"Must be one of {', '.join(ROLES)}")
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=employee_id)
    user.is_active = True
    user.is_staff = role in ("agent", "manager")
    if email:
        user.email = email
    if password:
        user.set_password(password)
    elif not user.has_usable_password() and role != "service":
        user.set_unusable_password()
    user.save()
    groups = [Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS[role]]
    user.groups.set(groups)
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key
