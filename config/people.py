"""Employees: Django users whose username is the employee ID, in one of three roles, and who a write is made as.

A service account writes as itself, or on behalf of an employee of a role it was granted (``ServiceAccount``:
agents unless managers were granted). On someone's behalf it has at most an agent's powers: every permission that
only managers hold (deciding approvals, closing, escalating and reopening directly, leaving escalation, changing
another agent's appeasement, webhook administration) needs the employee's own credential
(``config.auth_backends.OnBehalfPermissions``). The employee it acts for carries ``acting_via``, so every history
row and timeline line of the write names both.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import Q
from rest_framework.authtoken.models import Token

from config.accounts import ACCOUNT_RE
from config.errors import PermissionDenied, ValidationFailed
from config.history import via_of, who
from config.permissions import AGENT, AGENT_GROUP, MANAGER, MANAGER_GROUP, SERVICE, SERVICE_GROUP

ACT_ON_BEHALF_PERM = "orders.act_on_behalf"
ROLE_GROUPS = {
    "agent": [AGENT_GROUP],
    "manager": [AGENT_GROUP, MANAGER_GROUP],
    "service": [SERVICE_GROUP],
}
ROLES = tuple(ROLE_GROUPS)
ACT_FOR_ROLES = (AGENT, MANAGER)


def employee_get(employee_id: str) -> AbstractBaseUser | None:
    """The active employee with this ID, or None."""
    if not employee_id:
        return None
    return get_user_model().objects.filter(username=employee_id, is_active=True).first()


def managers(*, administrators: bool = False) -> list[AbstractBaseUser]:
    """The active managers (members of the Managers group), oldest account first: who is told about requests that
    wait for a manager. ``administrators``: the active superusers too (operational alarms: a webhook subscription
    disabled by failures goes to whoever can repair it)."""
    who_is = Q(groups__name=MANAGER_GROUP)
    if administrators:
        who_is |= Q(is_superuser=True)
    return list(get_user_model().objects.filter(who_is, is_active=True).distinct().order_by("pk"))


def is_manager(user) -> bool:
    """A manager (or an administrator) acting with their own credential."""
    if getattr(user, "acting_via", None) is not None:
        return False
    return bool(user and user.is_authenticated and (user.is_superuser or _in_group(user, MANAGER_GROUP)))


def employee_role(user) -> str | None:
    """``manager``, ``agent`` or ``service`` by the employee's groups; None for anyone else."""
    if not (user and user.is_authenticated):
        return None
    for role, group in ((MANAGER, MANAGER_GROUP), (AGENT, AGENT_GROUP), (SERVICE, SERVICE_GROUP)):
        if _in_group(user, group):
            return role
    return None


def service_grant(user):
    """The service account's grants (``config.models.ServiceAccount``); an unsaved default when it has none."""
    from config.models import ServiceAccount

    grant = getattr(user, "_service_grant_cache", None)
    if grant is None:
        grant = ServiceAccount.objects.filter(user=user).first() or ServiceAccount(user=user)
        user._service_grant_cache = grant
    return grant


def is_service(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(ACT_ON_BEHALF_PERM))


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_group_names_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._group_names_cache = cache
    return name in cache


def resolve_actor(*, user, employee_id: str | None, field: str = "updated_by", permission: str | None = None):
    """The employee a write is made as.

    The authenticated user, unless a service account names another employee. ``employee_id`` must name an active
    employee (a validation error otherwise) and equal the caller (403 otherwise), unless the caller is a service
    account granted the employee's role: then the employee is returned carrying ``acting_via`` (the service
    account), with at most an agent's powers. ``permission`` is what the endpoint needs: on someone's behalf the
    employee must hold it too (a service account may create orders as itself, not as an agent who may not).
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
    role = None if employee.is_superuser else employee_role(employee)
    granted = [r for r in service_grant(user).act_for if r in ACT_FOR_ROLES]
    if role not in granted:
        whom = "an administrator" if employee.is_superuser else f"a {role or 'non-employee'} account"
        raise PermissionDenied(
            f"{user.username} may not act for {employee_id} ({whom}); it is granted to act for: "
            f"{', '.join(r + 's' for r in granted) or 'nobody'}",
            field=field,
        )
    acting = on_behalf(employee, via=user)
    if permission and not acting.has_perm(permission):
        raise PermissionDenied(
            f"{employee_id} may not do this through {user.username} (it needs {permission}): on anyone's behalf a "
            "service account has at most an agent's permissions; managers use their own credential",
            field=field,
            required_permission=permission,
            acting_via=user.username,
        )
    return acting


def on_behalf(employee, *, via):
    """``employee`` (an instance read for this request alone, as ``employee_get`` gives) marked as a service
    account's on-behalf actor."""
    employee.acting_via = via
    return employee


def acting_label(actor) -> str:
    """ "emp_cs_001", or "emp_cs_001 (via svc_storefront)" for an on-behalf write."""
    return who(actor.get_username() if actor is not None else None, via_of(actor))


def own_credential_required(actor, what: str) -> PermissionDenied | None:
    """The refusal for a manager power asked for on someone's behalf (None when the actor uses their own)."""
    via = getattr(actor, "acting_via", None)
    if via is None:
        return None
    return PermissionDenied(
        f"{what} needs the employee's own credential: {via.get_username()} acts for {actor.get_username()} "
        "with an agent's powers only",
        acting_for=actor.get_username(),
        acting_via=via.get_username(),
    )


@transaction.atomic
def employee_upsert(
    *,
    employee_id: str,
    role: str,
    password: str | None = None,
    email: str = "",
    act_for: list[str] | None = None,
    accounts: list[str] | None = None,
) -> tuple:
    """Create or update an employee in ``role``; returns (user, api token key).

    A service account gets its grants (``act_for`` roles, default agents; webhook ``accounts``), kept with history.
    """
    if role not in ROLE_GROUPS:
        raise ValidationFailed.single("role", f"Must be one of {', '.join(ROLES)}")
    if role != SERVICE and (act_for is not None or accounts is not None):
        raise ValidationFailed.single("role", "Only service accounts act for others or manage webhook accounts")
    bad_roles = sorted(set(act_for or []) - set(ACT_FOR_ROLES))
    if bad_roles:
        raise ValidationFailed.single("act_for", f"Unknown role(s) {', '.join(bad_roles)}: use agent, manager")
    bad_accounts = [a for a in accounts or [] if not ACCOUNT_RE.match(a)]
    if bad_accounts:
        raise ValidationFailed.single("accounts", f"Not 24-character account ids: {', '.join(bad_accounts)}")
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
    if role == SERVICE and (act_for is not None or accounts is not None):  # no row: the defaults (agents only)
        _grant_upsert(user, act_for=act_for, accounts=accounts)
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def _grant_upsert(user, *, act_for: list[str] | None, accounts: list[str] | None) -> None:
    from config.history import save_with_history
    from config.models import ServiceAccount

    grant = ServiceAccount.objects.select_for_update().filter(user=user).first()
    created = grant is None
    grant = grant or ServiceAccount(user=user)
    changed = []
    if act_for is not None and sorted(set(act_for)) != sorted(grant.act_for):
        grant.act_for, changed = (
            sorted(set(act_for)),
            [*changed, f"acts for {', '.join(sorted(set(act_for))) or 'nobody'}"],
        )
    if accounts is not None and sorted(set(accounts)) != sorted(grant.accounts):
        grant.accounts, changed = (
            sorted(set(accounts)),
            [*changed, f"accounts {', '.join(sorted(set(accounts))) or 'none'}"],
        )
    if created or changed:
        save_with_history(
            grant, actor=None, reason=("Granted: " if created else "Changed: ") + ("; ".join(changed) or "defaults")
        )
