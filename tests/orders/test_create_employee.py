"""manage.py create_employee EMPLOYEE_ID --role agent|manager|service [--password P]."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from config.permissions import AGENT_GROUP, MANAGER_GROUP, SERVICE_GROUP

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("create_employee", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def groups(user):
    return set(user.groups.values_list("name", flat=True))


def test_creates_agent_and_prints_token_alone_on_last_line():
    out, _ = run("emp_cs_042", "--role", "agent", "--password", "s3cret-pass")
    user = get_user_model().objects.get(username="emp_cs_042")
    last_line = out.strip().splitlines()[-1]
    assert last_line == Token.objects.get(user=user).key
    assert groups(user) == {AGENT_GROUP}
    assert user.is_staff
    assert user.check_password("s3cret-pass")
    assert user.has_perm("orders.change_orderitem")
    assert not user.has_perm("orders.add_category")


def test_manager_role_and_update_keeps_the_token():
    out1, _ = run("emp_x", "--role", "agent")
    out2, _ = run("emp_x", "--role", "manager")
    user = get_user_model().objects.get(username="emp_x")
    assert out1.strip().splitlines()[-1] == out2.strip().splitlines()[-1]
    assert groups(user) == {AGENT_GROUP, MANAGER_GROUP}
    assert user.has_perm("orders.add_category")
    assert get_user_model().objects.filter(username="emp_x").count() == 1


def test_service_role_acts_on_behalf_and_is_not_staff():
    run("svc_x", "--role", "service")
    user = get_user_model().objects.get(username="svc_x")
    assert groups(user) == {SERVICE_GROUP}
    assert not user.is_staff
    assert user.has_perm("orders.act_on_behalf")


def test_demotion_removes_the_manager_group():
    run("emp_y", "--role", "manager")
    run("emp_y", "--role", "agent")
    user = get_user_model().objects.get(username="emp_y")
    assert groups(user) == {AGENT_GROUP}
    assert not user.has_perm("orders.add_category")


def test_password_update():
    run("emp_z", "--role", "agent", "--password", "first-pass-1")
    run("emp_z", "--role", "agent", "--password", "second-pass-2")
    user = get_user_model().objects.get(username="emp_z")
    assert user.check_password("second-pass-2")


def test_the_printed_token_authenticates(api):
    from rest_framework.test import APIClient

    out, _ = run("emp_tok", "--role", "agent")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.strip().splitlines()[-1]}")
    assert client.get("/api/v1/orders").status_code == 200


def test_unknown_role_refused():
    with pytest.raises(CommandError):
        run("emp_q", "--role", "admin")
    assert not get_user_model().objects.filter(username="emp_q").exists()
