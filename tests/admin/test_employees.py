"""Employees are deactivated, never deleted: a deletion would blank their name on every history row."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import employee

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-pass")


def test_not_even_a_superuser_deletes_an_employee(client, root):
    agent = employee("emp_leaving", "agent")
    client.force_login(root)
    assert client.get(f"/admin/auth/user/{agent.pk}/delete/").status_code == 403
    assert client.post(f"/admin/auth/user/{agent.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [agent.pk], "post": "yes"})
    assert get_user_model().objects.filter(pk=agent.pk).exists()
    assert "delete_selected" not in client.get("/admin/auth/user/").content.decode()


def test_the_change_page_offers_deactivation_instead(client, root):
    agent = employee("emp_leaving", "agent")
    client.force_login(root)
    page = client.get(f"/admin/auth/user/{agent.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_active"' in page.content.decode()
    assert f"/admin/auth/user/{agent.pk}/delete/" not in page.content.decode()
