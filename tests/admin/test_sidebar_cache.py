"""The sidebar is rendered once per viewer, page and badge counts and then served from memory
(desk.sidebar_cache). Served from memory it must be, byte for byte, what Unfold's template renders for the same
request, with the request's own CSRF token in its log-out form; and a new count, a new page or new permissions
must render it anew."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from desk import sidebar_cache
from tests.admin.test_workspace import issue_url, logged_in
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def sidebar(body: str) -> str:
    start = body.index('<div class="relative z-60">')
    return body[start : body.index('<div id="main"', start)]


def tokens(html: str) -> list[str]:
    return TOKEN.findall(html)


def pages(order, issue) -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:issues_orderissue_changelist"),
        reverse("admin:issues_orderissue_changelist") + "?mine=open",
        issue_url(issue),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:issues_approvalrequest_changelist") + "?state__exact=pending",
        reverse("admin:appeasements_appeasement_changelist"),
    ]


@pytest.fixture
def fresh():
    sidebar_cache.forget()
    yield
    sidebar_cache.forget()


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_a_kept_sidebar_is_unfolds_sidebar_with_this_requests_token(request, fresh, monkeypatch, agent, who):
    user = request.getfixturevalue(who)
    order = order_with_items(items=2)
    issue = issue_factory(order, assigned_to=agent)
    client = logged_in(user)
    for url in pages(order, issue):
        monkeypatch.setattr(sidebar_cache, "CACHE", False)
        rendered = sidebar(client.get(url).content.decode())
        monkeypatch.setattr(sidebar_cache, "CACHE", True)
        first = client.get(url).content.decode()
        kept = client.get(url).content.decode()
        assert len(sidebar_cache._kept) >= 1, url  # the project's pages keep theirs
        for body in (first, kept):
            assert TOKEN.sub("", sidebar(body)) == TOKEN.sub("", rendered), url
            # the log-out form carries this response's token, the one its other forms carry
            [token] = tokens(sidebar(body))
            assert token in tokens(body.replace(sidebar(body), "")) or len(tokens(body)) == 1
        assert 'value="desk-sidebar-csrf-token"' not in kept
        assert ' class="flex h-[38px] items-center -mx-3 px-3 rounded-default hover:text-primary-600' in kept


def test_logging_out_from_a_kept_sidebar_works(fresh, agent):
    client = logged_in(agent)
    url = reverse("admin:issues_orderissue_changelist")
    client.get(url)
    body = client.get(url).content.decode()  # from memory
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', sidebar(body))
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("admin:logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert client.get(url).status_code == 302  # logged out


def badge(body: str, title: str) -> str:
    link = re.search(rf"<span>{title}</span>\s*(.*?)</a>", sidebar(body), re.S)
    return re.sub(r"<[^>]+>|\s", "", link.group(1))


def test_a_new_count_a_new_page_and_new_permissions_render_it_anew(fresh, agent):
    client = logged_in(agent)
    changelist = reverse("admin:issues_orderissue_changelist")
    body = client.get(changelist).content.decode()
    assert badge(body, "My open issues") == "0"
    issue_factory(order_with_items(items=1), assigned_to=agent)
    body = client.get(changelist).content.decode()
    assert badge(body, "My open issues") == "1"

    # the active link follows the page
    assert "active" in re.search(r'<a href="[^"]*/issues/orderissue/"[^>]*>', sidebar(body)).group(0)
    body = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "active" not in re.search(r'<a href="[^"]*/issues/orderissue/"[^>]*>', sidebar(body)).group(0)
    assert "active" in re.search(r'<a href="[^"]*/orders/order/"[^>]*>', sidebar(body)).group(0)

    # a permission granted shows its model in "All applications" on the next page
    assert "/admin/webhooks/subscription/" not in sidebar(body)
    agent.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    body = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "/admin/webhooks/subscription/" in sidebar(body)


def active_links(body: str) -> list[str]:
    """The titles of the sidebar's links marked active."""
    links = re.findall(r'<a href="[^"]*"\s+class="([^"]*)"[^>]*>.*?<span>([^<]+)</span>', sidebar(body), re.S)
    return [title for classes, title in links if "active" in classes.split()]


@pytest.mark.parametrize("kept", [False, True], ids=["rendered", "kept"])
def test_one_issue_link_is_active_at_a_time(fresh, monkeypatch, agent, kept):
    """Unfold compares paths only, so "My open issues" and "All issues" were both active on every issue page."""
    monkeypatch.setattr(sidebar_cache, "CACHE", kept)
    issue = issue_factory(order_with_items(items=1), assigned_to=agent)
    client = logged_in(agent)
    changelist = reverse("admin:issues_orderissue_changelist")
    expected = {
        changelist + "?mine=open": ["My open issues"],
        changelist: ["All issues"],
        changelist + "?status__exact=open": ["All issues"],
        issue_url(issue): ["All issues"],
        reverse("admin:orders_order_changelist"): ["Orders"],
    }
    for _ in range(2):  # the second time from memory, when kept
        for url, active in expected.items():
            assert active_links(client.get(url).content.decode()) == active, url


def test_the_sidebar_reads_the_issue_lists_own_parameter():
    from desk.sidebar import MINE
    from issues.admin import MineFilter

    assert MineFilter.parameter_name == MINE
