from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import issue_factory, order_with_items


@pytest.fixture
def order(db):
    return order_with_items(items=2, unit_price=Decimal("20.00"))  # 40.00 paid


@pytest.fixture
def make_issue(order, agent):
    def make(status=None, **kw):
        kw.setdefault("assigned_to", agent)
        return issue_factory(kw.pop("order", order), status=status, actor=kw.pop("actor", agent), **kw)

    return make


def url(issue, suffix: str = "") -> str:
    return f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}{suffix}"


def future(days: int = 7) -> str:
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
