"""Schemathesis over every operation of the OpenAPI schema, all default checks (negative-data rejection included:
a schema-violating request must get a 4xx), in-process (WSGI).

As an agent and as a manager, alternating example by example (``/api/v1/`` with their tokens, ``/ccagent/``
with Bearer tokens), and with a fabric key of the order's account for ``/api-order/``.
Half of the generated path ids (and site contexts)
are swapped for real ones, so the fuzzer reaches the handlers and the services, not only the 404s.

``FUZZ_EXAMPLES`` sets the examples per operation (50 in CI; ``make fuzz`` runs many more).
"""

import hashlib
import json
import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from returns.models import AccountAPIKey
from tests.factories import employee, issue_factory, order_with_items

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
ACCOUNT = "5e3598e3007c5e00080d2bb8"
APP = WSGIHandler()


def openapi_dict() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


@pytest.fixture
def in_process_requests():
    """As Django's test client does: a request must not close the test's database connection (its transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, in_process_requests):
    """The people, an order with an issue and an appeasement, a fabric key; ids to aim at."""
    settings.ALLOWED_HOSTS = ["*"]
    cache.clear()
    agent = employee("emp_cs_001", "agent")
    manager = employee("emp_mgr_001", "manager")
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT, channel=12)
    issue = issue_factory(order, actor=agent, assigned_to=agent)
    from appeasements import services as appeasement_services

    appeasement = appeasement_services.appeasement_create(
        caller=agent,
        data=appeasement_services.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[
                appeasement_services.RefundInput(
                    refund_type="externalRefund", amount=Decimal("5.00"), currency_code=order.currency
                )
            ],
            given={"orderId", "reason", "appeasementRefunds"},
        ),
    )
    _, key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    return {
        "tokens": {
            "agent": Token.objects.get_or_create(user=agent)[0].key,
            "manager": Token.objects.get_or_create(user=manager)[0].key,
        },
        "fabric_key": key,
        "ids": {
            "order_id": order.order_id,
            "issue_id": issue.issue_id,
            "order_item_id": str(order.items.first().order_item_id),
            "appeasement_id": appeasement.appeasement_id,
            "approval_id": "apr_missing",
        },
    }


SCHEMA_DICT = openapi_dict()
# Every default check runs. A schema cannot say "this employee exists" or "a refund needs a source", so a
# schema-valid request refused by a business rule (400/412/422 with the dialect's body) is an acceptable answer.
# The credentials are the harness's (``prepare``), so schemathesis generates no security parameters of its own:
# else a negative case "without Authorization" is sent with the harness's Authorization and, answered 200, is
# reported as accepted negative data. Requests without credentials are still checked (the ``ignored_auth`` check).
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "412", "422", "429"]
            }
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(SCHEMA_DICT, config=CONFIG)
SCHEMA.app = APP  # every request, the checks' own probes included, goes to the Django app in-process
METHODS = ("get", "put", "post", "patch", "delete")
OPERATIONS = [(path, method) for path, item in SCHEMA_DICT["paths"].items() for method in METHODS if method in item]


def _coin(value) -> bool:
    return hashlib.sha256(repr(value).encode()).digest()[0] % 2 == 0


def prepare(case, world, role: str) -> dict:
    """Aim half of the ids at real rows; return the caller's credentials (explicit auth for the checks)."""
    path = case.operation.path
    for name in list(case.path_parameters or {}):
        if name in world["ids"] and _coin(case.path_parameters[name]):
            case.path_parameters[name] = world["ids"][name]
    if path.startswith("/api-order/"):
        if case.headers and "x-site-context" in case.headers and _coin(case.headers["x-site-context"]):
            case.headers["x-site-context"] = json.dumps({"account": ACCOUNT})
        return {"x-api-key": world["fabric_key"]}
    if path.startswith("/ccagent/"):
        return {"Authorization": f"Bearer {world['tokens'][role]}"}
    return {"Authorization": f"Token {world['tokens'][role]}"}


FUZZ_SETTINGS = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def fuzz(path: str, method: str, world: dict) -> None:
    operation = SCHEMA[path][method.upper()]
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    examples = iter(range(10**9))

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case):
        # the examples alternate between the agent's and the manager's credentials
        role = ("agent", "manager")[next(examples) % 2]
        case.call_and_validate(headers=prepare(case, world, role))

    run()


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_fuzz(path, method, world):
    fuzz(path, method, world)
