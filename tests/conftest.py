import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import employee


@pytest.fixture
def agent(db):
    return employee("emp_cs_001", "agent")


@pytest.fixture
def other_agent(db):
    return employee("emp_cs_002", "agent")


@pytest.fixture
def manager(db):
    return employee("emp_mgr_001", "manager")


@pytest.fixture
def other_manager(db):
    return employee("emp_mgr_002", "manager")


@pytest.fixture
def service(db):
    return employee("svc_storefront", "service")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api():
    """``api(user)`` -> an APIClient authenticated with the user's token (None: anonymous)."""
    return client_for


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` are skipped on SQLite, each with its reason: ``@pytest.mark.postgres("plans")``
    says what SQLite lacks for it; a bare marker means row locks and real concurrency."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            lacks = marker.args[0] if marker.args else "SQLite has no row locks"
            item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL (set DATABASE_URL); {lacks}"))
