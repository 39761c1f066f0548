"""The admin site (config.admin_site.DeskAdminSite) remembers each viewer's app list: it must be Django's list for
that viewer, and a permission granted or a model admin registered must show on the next page."""

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from unfold.sites import UnfoldAdminSite

from config.admin_site import DeskAdminSite
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db


def get(user, method="get"):
    request = getattr(RequestFactory(), method)("/admin/")
    request.user = user
    return request


def djangos(user, method="get"):
    return AdminSite.get_app_list(admin.site, get(user, method))


def test_the_project_site_is_unfolds():
    assert isinstance(admin.site, DeskAdminSite)
    assert isinstance(admin.site, UnfoldAdminSite)


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_each_viewer_gets_djangos_app_list(request, who):
    user = request.getfixturevalue(who)
    for method in ("get", "post"):
        assert admin.site.get_app_list(get(user, method)) == djangos(user, method)
        assert admin.site.get_app_list(get(user, method)) == djangos(user, method)  # remembered: the same
    issues = admin.site.get_app_list(get(user), "issues")
    assert [app["app_label"] for app in issues] == ["issues"]


def test_a_caller_cannot_change_the_next_requests_list(agent):
    first = admin.site.get_app_list(get(agent))
    first[0]["models"].clear()
    first[0]["name"] = "changed"
    assert admin.site.get_app_list(get(agent)) == djangos(agent)


def labels(app_list) -> set[str]:
    return {f"{app['app_label']}.{model['object_name']}" for app in app_list for model in app["models"]}


def test_a_permission_granted_shows_on_the_next_page(agent):
    assert "webhooks.Subscription" not in labels(admin.site.get_app_list(get(agent)))
    agent.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    agent = type(agent).objects.get(pk=agent.pk)  # the next request's user: no permission cache
    assert "webhooks.Subscription" in labels(admin.site.get_app_list(get(agent)))


def test_registering_a_model_admin_forgets_every_list(manager):
    site = DeskAdminSite(name="another")
    site.register(Subscription, ModelAdmin)
    assert "webhooks.Subscription" in labels(site.get_app_list(get(manager)))
    site.unregister(Subscription)
    assert "webhooks.Subscription" not in labels(site.get_app_list(get(manager)))
