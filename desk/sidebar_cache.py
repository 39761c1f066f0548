"""django-unfold's sidebar (its ``admin/nav_sidebar.html``), rendered once per viewer, page and badge counts and
then served from memory (issue 23: every admin page's server time).

The sidebar is the same HTML for the same inputs: the viewer (their name, e-mail and permissions, which decide the
links and the app list), the page's path and the issue list's ``mine`` parameter (which link is marked active:
``desk.sidebar.on_my_open_issues``), and the badges' counts (``sidebar_facts``,
one query that every page still runs). Rendering it through Unfold's templates costs 4-6 ms of every page, more
than the queries of a one-row changelist. Here it is rendered by Unfold's own template the first time and kept; the
one per-request part, the log-out form's CSRF token, is put in on each request.

``CACHE = False`` renders it every time; tests/admin/test_sidebar_cache.py renders the sidebar of the daily pages
both ways, for an agent and a manager, and asserts the same bytes (tokens aside).
"""

from __future__ import annotations

from pathlib import Path

import unfold
from django.conf import settings
from django.contrib import admin
from django.template import Origin, Template
from django.utils.html import format_html

from desk.sidebar import MINE, can_decide, my_open_issues_badge, pending_approvals_badge

CACHE = True
KEPT = 2048  # viewers x pages; past it the oldest sidebar goes (a dict keeps insertion order)
SOURCE = Path(unfold.__file__).parent / "templates" / "admin" / "nav_sidebar.html"
TOKEN = "desk-sidebar-csrf-token"  # stands for the CSRF token in a kept sidebar

_kept: dict = {}
_templates: dict = {}


def unfold_sidebar(engine) -> Template:
    """Unfold's ``admin/nav_sidebar.html`` (the project's template of that name is the one that calls this)."""
    if engine not in _templates:
        origin = Origin(name=str(SOURCE), template_name="admin/nav_sidebar.html")
        _templates[engine] = Template(SOURCE.read_text(), origin=origin, name="admin/nav_sidebar.html", engine=engine)
    return _templates[engine]


def _csrf_input(token) -> str:
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def cacheable() -> bool:
    """The sidebar depends on nothing but this module's key: the project's navigation, no tabs (whose active
    state reads the query string), no search box (which reads the browser's name)."""
    config = getattr(settings, "UNFOLD", {})
    sidebar = config.get("SIDEBAR", {})
    return (
        CACHE
        and sidebar.get("navigation") == "desk.sidebar.navigation"
        and not config.get("TABS")
        and not sidebar.get("show_search")
    )


def key(request) -> tuple:
    user = request.user
    return (
        user.pk,
        user.get_username(),
        user.get_full_name(),
        user.email,
        user.is_superuser,
        user.is_staff,
        frozenset(user.get_all_permissions()),
        request.path,
        request.GET.get(MINE),  # "My open issues" or "All issues" is the active link (desk.sidebar)
        request.method,
        # what the badges and the managers' links show (sidebar_facts: one query)
        my_open_issues_badge(request),
        pending_approvals_badge(request),
        can_decide(request),
    )


def render(context) -> str:
    """The sidebar for ``context`` (an admin page's), from memory when it was rendered for the same key."""
    template = unfold_sidebar(context.template.engine)
    request = context.get("request")
    if (
        request is None
        or not cacheable()
        or getattr(request, "current_app", None) != admin.site.name  # the project's site (not the bench's bare one)
        or not request.user.is_authenticated
    ):
        return template.render(context)
    k = key(request)
    html = _kept.get(k)
    if html is None:
        with context.push(csrf_token=TOKEN):
            html = template.render(context)
        if len(_kept) >= KEPT:
            _kept.pop(next(iter(_kept), None), None)
        _kept[k] = html
    token = context.get("csrf_token")
    live = _csrf_input(token) if token and token != "NOTPROVIDED" else ""
    return html.replace(_csrf_input(TOKEN), live)


def forget() -> None:
    _kept.clear()
