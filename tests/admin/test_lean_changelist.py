"""The shared admin base renders each changelist row's checkbox itself (one format_html instead of a widget
template per row); the markup must stay exactly Django's, or the actions' JavaScript and screen readers break."""

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin

from config.admin_mixins import LeanChangelistMixin
from issues.models import OrderIssue
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def test_checkbox_markup_is_djangos_own(agent):
    issue = issue_factory(order_with_items(), actor=agent)
    issue.title = 'Broken <b>"lid"</b> & more'
    model_admin = admin.site._registry[OrderIssue]
    assert isinstance(model_admin, LeanChangelistMixin)
    assert model_admin.action_checkbox(issue) == ModelAdmin.action_checkbox(model_admin, issue)
    assert 'name="_selected_action"' in model_admin.action_checkbox(issue)


def test_changelist_rows_have_the_checkbox(agent, client):
    issue = issue_factory(order_with_items(), actor=agent)
    client.force_login(agent)
    body = client.get("/admin/issues/orderissue/").content.decode()
    assert f'<input type="checkbox" name="_selected_action" value="{issue.pk}" class="action-select"' in body
    assert 'id="action-toggle"' in body
