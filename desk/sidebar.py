"""The admin's sidebar (django-unfold's ``SIDEBAR["navigation"]``, settings.UNFOLD): the desk's daily lists
first, with their counts as badges, then every app's models (``show_all_applications``).

A badge is a count the template asks for only when it draws the link: one indexed count per badge and page.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Subquery
from django.urls import reverse

from config.permissions import MANAGER_GROUP
from issues import sla
from issues.models import ApprovalRequest, ApprovalState, OrderIssue


def sidebar_facts(request) -> dict:
    """The viewer's open issues, the pending approvals and whether the viewer is a manager: one query per page,
    whatever the number of badges and links that ask."""
    if "_sidebar_facts" not in request.__dict__:
        user = request.user
        mine = OrderIssue.objects.filter(assigned_to=OuterRef("pk")).exclude(status__in=sla.DONE)
        pending = ApprovalRequest.objects.filter(state=ApprovalState.PENDING)
        row = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .annotate(
                mine=Subquery(mine.order_by().values("assigned_to").annotate(n=Count("pk")).values("n")[:1]),
                pending=Subquery(pending.order_by().values("state").annotate(n=Count("pk")).values("n")[:1]),
                manager=Exists(user.groups.through.objects.filter(user=OuterRef("pk"), group__name=MANAGER_GROUP)),
            )
            .values("mine", "pending", "manager")
            .first()
        ) or {"mine": 0, "pending": 0, "manager": False}
        row["manager"] = bool(row["manager"]) or user.is_superuser
        request._sidebar_facts = row
    return request._sidebar_facts


def _manager(request) -> bool:
    return sidebar_facts(request)["manager"]


def my_open_issues_badge(request) -> str:
    """The open issues assigned to the viewer (the index's "My open issues" tile)."""
    return str(sidebar_facts(request)["mine"] or 0)


def pending_approvals_badge(request) -> str:
    """The requests waiting for a manager (managers only: the link is hidden from agents)."""
    facts = sidebar_facts(request)
    return str(facts["pending"] or 0) if facts["manager"] else ""


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
                },
                {"title": "All issues", "icon": "support", "link": issues},
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
