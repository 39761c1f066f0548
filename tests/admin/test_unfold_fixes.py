"""desk.unfold_fixes: what django-unfold costs more than it needs to, fixed at start-up."""

import pytest
from django.test import Client
from django.urls import reverse
from unfold.templatetags import unfold_list

from desk import unfold_fixes
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def test_a_changelist_builds_its_column_headers_once_not_once_per_row(manager, agent, monkeypatch):
    for _ in range(5):
        issue_factory(order_with_items(items=1), assigned_to=agent)
    builds = []
    original = unfold_fixes._result_headers

    def counting(cl):
        builds.append(cl)
        return original(cl)

    monkeypatch.setattr(unfold_fixes, "_result_headers", counting)
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("admin:issues_orderissue_changelist"))
    assert response.status_code == 200
    assert unfold_list.result_headers is unfold_fixes.result_headers_once
    # five rows, each cell labelled with its column's header for narrow screens, and the table's head: one build
    assert len(builds) == 1
    body = response.content.decode()
    assert body.count('data-label="Issue"') == 5  # every row's cells still carry their header


def test_the_language_menu_has_one_language_to_build():
    from django.conf import settings

    assert [code for code, _ in settings.LANGUAGES] == ["en"]
