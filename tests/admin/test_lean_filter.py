"""The changelists' filters are rendered in Python (config.lean_filter); the HTML must be, byte for byte, what
Unfold's ``admin/filter.html`` renders for the same filter in the same request: its links are the filters, its
classes mark the chosen one. Every filter of every changelist the project registers is drawn unfiltered and with
each of its choices picked (a filter that keeps a hidden input for its value included)."""

import re
from html import unescape

import pytest
from django.contrib import admin
from django.urls import reverse

from config import lean_filter
from tests.admin.renderings import both_renderings
from tests.admin.test_workspace import logged_in
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"config", "orders", "issues", "appeasements", "returns", "webhooks", "desk", "auth"}


def unfolds_filter(context) -> str:
    return lean_filter.unfold_filter(context.template.engine).render(context)


renderings = both_renderings(lean_filter, "render_filter", unfolds_filter)


def filtered_changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
        if model._meta.app_label in PROJECT_APPS and model_admin.list_filter
    ]


def one_per_filter(links: set[str]) -> list[str]:
    """One picked choice of each filter (a filter's links share their parameter names)."""
    by_names: dict = {}
    for query in sorted(links):
        names = tuple(sorted(re.findall(r"[?&]([^=&]+)=", query)))
        by_names.setdefault(names, query)
    return list(by_names.values())


def test_every_filter_in_every_state_is_unfolds_html(renderings, admin_user, agent):
    order = order_with_items(items=2)
    issue_factory(order, assigned_to=agent)
    client = logged_in(admin_user)
    urls = filtered_changelists()
    assert len(urls) >= 8
    drawn = set()
    for url in urls:
        assert client.get(url).status_code == 200, url
        links = set()
        for fast, slow in renderings:
            assert fast == slow, url
            links |= {unescape(q) for q in re.findall(r'<a href="(\?[^"]*)"', fast)}
        renderings.clear()
        for query in one_per_filter(links):
            assert client.get(url + query).status_code == 200, url + query
            for fast, slow in renderings:
                assert fast == slow, url + query
                drawn.add(fast)
            renderings.clear()
    kept = [html for html in drawn if 'type="hidden"' in html]
    assert kept  # a picked value kept as a hidden input (a field's filter)
    assert any("font-semibold text-primary-600" in html for html in drawn)  # a picked choice marked


def test_a_value_in_a_filter_is_escaped_as_the_template_escapes_it(renderings, manager):
    client = logged_in(manager)
    url = reverse("admin:issues_orderissue_changelist") + '?status__exact=<b>"x"'
    client.get(url)
    for fast, slow in renderings:
        assert fast == slow
    assert renderings
