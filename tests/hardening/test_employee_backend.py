"""config.auth_backends.EmployeeBackend: Django's permissions, read in one query."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.auth_backends import EmployeeBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    user = get_user_model().objects.create_user("emp_perm_probe", password="x")
    group = Group.objects.create(name="Probe group")
    group.permissions.add(Permission.objects.get(codename="view_order"))
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="change_orderissue"))
    return get_user_model().objects.get(pk=user.pk)


def test_its_own_and_its_groups_permissions_in_one_query_as_django_reads_them(user):
    django_reads = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        ours = EmployeeBackend().get_all_permissions(user)
    assert ours == django_reads == {"orders.view_order", "issues.change_orderissue"}
    assert len(ctx.captured_queries) == 1
    assert user.has_perm("issues.change_orderissue")
    assert user.has_perm("orders.view_order")
    assert not user.has_perm("orders.delete_order")


def test_an_inactive_user_has_none_and_a_superuser_all(user):
    user.is_active = False
    assert EmployeeBackend().get_all_permissions(user) == set()
    admin = get_user_model().objects.create_superuser("emp_root_probe", password="x")
    assert "orders.delete_order" in EmployeeBackend().get_all_permissions(admin)


def test_the_history_manager_class_is_built_once_per_model():
    from issues.models import OrderIssue

    assert type(OrderIssue.history) is type(OrderIssue.history)
