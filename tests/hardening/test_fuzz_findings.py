"""Regressions for what the schemathesis run found (each was a 5xx or an accepted invalid input)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["1243-03-14T18:03:24+22:15", "0001-01-01T00:00:00+05:00"])
def test_order_list_date_filters_with_extreme_offsets_are_not_a_server_error(api, agent, value):
    # PostgreSQL refuses offsets past 15:59: the filter compares in UTC, or answers 400
    r = api(agent).get("/api/v1/orders", {"created_after": value})
    assert r.status_code in (200, 400), r.content


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/issues", {"follow_up_due": "-1e308"}, "follow_up_due"),
        ("/api/v1/issues", {"status": ""}, "status"),
        ("/api/v1/issues", {"no_such_filter": "1"}, "no_such_filter"),
        ("/api/v1/orders", {"page": "0"}, "page"),
        ("/api/v1/orders", {"page_size": "-3"}, "page_size"),
        ("/api/v1/issues/metrics", {"created_after": ""}, "created_after"),
        ("/api/v1/issues/metrics", {"typo": "x"}, "typo"),
    ],
)
def test_malformed_query_parameters_are_refused_by_name(api, agent, url, params, field):
    r = api(agent).get(url, params)
    assert r.status_code == 400, r.content
    assert field in {e["field"] for e in r.json()["validation_errors"]}


@pytest.mark.parametrize("params", [{"state": ""}, {"typo": "1"}])
def test_ccagent_list_refuses_malformed_parameters(cc, agent, params):
    r = cc(agent).get("/ccagent/v1/appeasements", params)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "13001"
