"""GET/POST /api/v1/categories."""

import pytest

from orders.models import Category
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_list_categories(api, agent):
    CategoryFactory(name="Snacks")
    CategoryFactory(name="Home")
    r = api(agent).get("/api/v1/categories")
    assert r.status_code == 200
    assert [c["name"] for c in r.json()["results"]] == ["Home", "Snacks"]


def test_manager_creates_category_with_history(api, manager):
    r = api(manager).post("/api/v1/categories", {"name": "Snacks", "description": "Sweet and salty"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json() == {"name": "Snacks", "description": "Sweet and salty"}
    category = Category.objects.get(name="Snacks")
    assert category.history.latest().history_user == manager


def test_agent_cannot_create_category(api, agent):
    r = api(agent).post("/api/v1/categories", {"name": "Snacks"}, format="json")
    assert r.status_code == 403
    assert r.json()["success"] is False
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert not Category.objects.exists()


def test_names_are_case_sensitive(api, manager):
    assert api(manager).post("/api/v1/categories", {"name": "home"}, format="json").status_code == 201
    assert api(manager).post("/api/v1/categories", {"name": "Home"}, format="json").status_code == 201
    r = api(manager).post("/api/v1/categories", {"name": "Home"}, format="json")
    assert r.status_code == 409
    assert r.json()["error_code"] == "DUPLICATE"
    assert r.json()["field"] == "name"
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Home", "home"]


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "ok", "color": "red"}]
)
def test_bad_category_bodies(api, manager, body):
    r = api(manager).post("/api/v1/categories", body, format="json")
    assert r.status_code == 400
    assert r.json()["error_code"] == "VALIDATION_ERROR"
    assert r.json()["validation_errors"]
    assert not Category.objects.exists()


def test_anonymous_cannot_list(api, db):
    r = api(None).get("/api/v1/categories")
    assert r.status_code == 401


def test_updated_by_names_the_caller(api, manager):
    r = api(manager).post("/api/v1/categories", {"name": "Snacks", "updated_by": "emp_mgr_001"}, format="json")
    assert r.status_code == 201, r.content
    assert Category.objects.get().history.latest().history_user == manager


def test_updated_by_someone_else_is_forbidden(api, manager, other_manager):
    r = api(manager).post("/api/v1/categories", {"name": "Snacks", "updated_by": "emp_mgr_002"}, format="json")
    assert r.status_code == 403
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert not Category.objects.exists()
