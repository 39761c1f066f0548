"""The admin's sidebar (django-unfold's ``SIDEBAR["navigation"]``, settings.UNFOLD): the desk's daily lists
first, with their counts as badges, then every app's models (``show_all_applications``).

A badge is a count the template asks for only when it draws the link: one indexed count per badge and page.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.urls import reverse

from config.permissions import MANAGER_GROUP
from issues import sla
from issues.models import ApprovalRequest, ApprovalState, OrderIssue

BADGE_CAP = 100  # a badge counts up to this many rows and then reads "99+": its cost stays the same at any size


def bounded_count(queryset) -> RawSQL:
    """How many rows of ``queryset`` there are, counting no further than ``BADGE_CAP``, as an expression."""
    sql, params = queryset.order_by().values("pk")[:BADGE_CAP].query.sql_with_params()
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS capped", params)  # noqa: S611 - the ORM's own SQL and params


def sidebar_facts(request) -> dict:
    """The viewer's open issues, the pending approvals (each counted up to ``BADGE_CAP``) and whether the viewer is
    a manager: one query per page, whatever the number of badges and links that ask.

    The viewer is a value in the SQL, not a correlated reference: the planner then sees whose queue it counts and
    walks ``issue_open_queue_idx`` (a correlated count over an assignee was planned for the average assignee, a
    sequential scan of a million issues: 160 ms on every admin page).

    Written as SQL (the same query as ``sidebar_facts_query``, which tests/admin/test_workspace.py compares it
    with): every admin page runs it, and the ORM took about 1.5 ms to build the three subqueries of a 0.3 ms
    query."""
    if "_sidebar_facts" not in request.__dict__:
        user = request.user
        with connections[router.db_for_read(OrderIssue)].cursor() as cursor:
            params = [user.pk, *sla.DONE, BADGE_CAP, ApprovalState.PENDING, BADGE_CAP, MANAGER_GROUP, user.pk]
            cursor.execute(_facts_sql(), params)
            found = cursor.fetchone()
        row = {"mine": found[0], "pending": found[1], "manager": found[2]} if found else None
        row = row or {"mine": 0, "pending": 0, "manager": False}
        row["manager"] = bool(row["manager"]) or user.is_superuser
        request._sidebar_facts = row
    return request._sidebar_facts


def sidebar_facts_query(user):
    """``sidebar_facts``'s query in the ORM (what its SQL says): the user's row with ``mine``, ``pending`` and
    ``manager``."""
    mine = OrderIssue.objects.filter(assigned_to_id=user.pk).exclude(status__in=sla.DONE)
    pending = ApprovalRequest.objects.filter(state=ApprovalState.PENDING)
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            mine=bounded_count(mine),
            pending=bounded_count(pending),
            manager=Exists(user.groups.through.objects.filter(user=OuterRef("pk"), group__name=MANAGER_GROUP)),
        )
        .values("mine", "pending", "manager")
    )


def _facts_sql() -> str:
    qn = connections[router.db_for_read(OrderIssue)].ops.quote_name
    users = get_user_model()._meta
    membership = users.model.groups.through._meta
    issues, approvals, groups = OrderIssue._meta, ApprovalRequest._meta, Group._meta

    def col(opts, name: str) -> str:
        return qn(opts.get_field(name).column)

    done = ", ".join(["%s"] * len(sla.DONE))
    return (
        "SELECT"  # noqa: S608 - table and column names from the models, values as parameters
        f" (SELECT COUNT(*) FROM (SELECT {qn(issues.pk.column)} FROM {qn(issues.db_table)}"
        f" WHERE {col(issues, 'assigned_to')} = %s AND NOT ({col(issues, 'status')} IN ({done})) LIMIT %s) AS capped),"
        f" (SELECT COUNT(*) FROM (SELECT {qn(approvals.pk.column)} FROM {qn(approvals.db_table)}"
        f" WHERE {col(approvals, 'state')} = %s LIMIT %s) AS capped),"
        f" EXISTS (SELECT 1 FROM {qn(membership.db_table)} m INNER JOIN {qn(groups.db_table)} g"
        f" ON g.{qn(groups.pk.column)} = m.{col(membership, 'group')}"
        f" WHERE m.{col(membership, 'user')} = u.{qn(users.pk.column)} AND g.{col(groups, 'name')} = %s)"
        f" FROM {qn(users.db_table)} u WHERE u.{qn(users.pk.column)} = %s"
    )


def badge_text(n: int | None) -> str:
    n = n or 0
    return f"{BADGE_CAP - 1}+" if n >= BADGE_CAP else str(n)


def _manager(request) -> bool:
    return sidebar_facts(request)["manager"]


def my_open_issues_badge(request) -> str:
    """The open issues assigned to the viewer (the index's "My open issues" tile)."""
    return badge_text(sidebar_facts(request)["mine"])


def pending_approvals_badge(request) -> str:
    """The requests waiting for a manager (managers only: the link is hidden from agents)."""
    facts = sidebar_facts(request)
    return badge_text(facts["pending"]) if facts["manager"] else ""


MINE = "mine"  # the parameter of the issue list's MineFilter (issues.admin), whose "open" is the viewer's open issues


def on_my_open_issues(request) -> bool:
    """The viewer's open issues are the page: Unfold compares paths only, and so marked "All issues" active too."""
    return request.path == reverse("admin:issues_orderissue_changelist") and request.GET.get(MINE) == "open"


def on_other_issue_pages(request) -> bool:
    """Any other issue page: the list however filtered, an issue's workspace, its history."""
    return request.path.startswith(reverse("admin:issues_orderissue_changelist")) and not on_my_open_issues(request)


def navigation(request) -> list[dict]:
    issues = reverse("admin:issues_orderissue_changelist")
    return [
        {
            "title": "Desk",
            "separator": False,
            "items": [
                {"title": "Home", "icon": "home", "link": reverse("admin:index")},
                {"title": "Orders", "icon": "shopping_bag", "link": reverse("admin:orders_order_changelist")},
                {
                    "title": "My open issues",
                    "icon": "assignment_ind",
                    "link": f"{issues}?mine=open",
                    "badge": "desk.sidebar.my_open_issues_badge",
                    "active": on_my_open_issues,
                },
                {"title": "All issues", "icon": "support", "link": issues, "active": on_other_issue_pages},
                {
                    "title": "Approvals waiting",
                    "icon": "approval",
                    "link": reverse("admin:issues_approvalrequest_changelist") + "?state__exact=pending",
                    "badge": "desk.sidebar.pending_approvals_badge",
                    "permission": "desk.sidebar.can_decide",
                },
                {
                    "title": "Appeasements",
                    "icon": "redeem",
                    "link": reverse("admin:appeasements_appeasement_changelist"),
                },
                {"title": "Returns", "icon": "assignment_return", "link": reverse("admin:returns_return_changelist")},
                {
                    "title": "Managers' dashboard",
                    "icon": "monitoring",
                    "link": reverse("admin:issues_dashboard"),
                    "permission": "desk.sidebar.can_decide",
                },
            ],
        },
    ]


def can_decide(request) -> bool:
    return _manager(request)
