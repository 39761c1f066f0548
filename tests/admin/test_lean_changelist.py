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


def test_choice_labels_are_djangos_for_every_choice_field_of_the_project():
    """config.admin_mixins.choice_label says what ``get_<field>_display()`` says, for every value of every choice
    field of the project's models, and for a value that is not a choice."""
    from django.apps import apps

    from config.admin_mixins import choice_label

    checked = 0
    for model in apps.get_models():
        if model._meta.app_label not in {"config", "orders", "issues", "appeasements", "returns", "webhooks"}:
            continue
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            for value in [value for value, _label in field.flatchoices] + ["not-a-choice"]:
                obj = model(**{field.attname: value})
                assert choice_label(obj, field.name) == getattr(obj, f"get_{field.name}_display")(), (field, value)
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("pk", [1, 42, 1234567890, "ORD-1/2", "a b"])
def test_change_url_is_reverse(pk):
    """config.admin_urls.change_url gives the address Django reverses, for the site's instance too, also under
    another script prefix."""
    from django.urls import reverse, set_script_prefix

    from config.admin_urls import change_url

    for viewname in ("admin:orders_order_change", "admin:returns_return_change"):
        assert change_url(viewname, pk) == reverse(viewname, args=[pk])
        assert change_url(viewname, pk, current_app="admin") == reverse(viewname, args=[pk], current_app="admin")
    set_script_prefix("/desk/")
    try:
        assert change_url("admin:orders_order_change", pk) == reverse("admin:orders_order_change", args=[pk])
        assert change_url("admin:orders_order_change", pk).startswith("/desk/admin/")
    finally:
        set_script_prefix("/")
