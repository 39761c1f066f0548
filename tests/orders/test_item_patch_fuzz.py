"""Property test: any body of seed-003 fields is either applied exactly or refused without a trace; never a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CategoryFactory
from tests.orders.conftest import item_url, snapshot

pytestmark = pytest.mark.django_db

text = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=45, max_size=1100),
    st.sampled_from(["<b>x</b>", "&amp;", "Home", "home", "Snacks", " Home", "Item 1", "  ", "\x00", "a\u0000b"]),
)
bodies = st.dictionaries(
    st.sampled_from(
        [
            "special_instructions",
            "store_item_name",
            "store_item_description",
            "store_item_category",
            "store_item_size",
            "preparation_notes",
        ]
    ),
    text,
    min_size=1,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_item_patch_is_all_or_nothing(api, agent, order, fulfillment_calls, body):
    CategoryFactory(name="Snacks")
    item = order.items.order_by("line_number").first()
    before = snapshot(item)
    fulfillment_calls.clear()

    r = api(agent).patch(item_url(order, item), body, format="json")

    assert r.status_code in (200, 400), r.content
    payload = r.json()
    if r.status_code == 400:
        assert payload["success"] is False
        assert payload["error_code"] in ("VALIDATION_ERROR", "INVALID_FIELD_VALUE")
        assert snapshot(item) == before
        return
    after = snapshot(item)
    changed = set(payload["updated_fields"])
    expected_history = before["history_rows"] + (1 if changed else 0)
    assert after["history_rows"] == expected_history
    for field in changed:
        attr = "category_id" if field == "store_item_category" else field
        assert after[attr] != before[attr]
    if "special_instructions" in body and body["special_instructions"] is not None:
        assert after["special_instructions"] == body["special_instructions"]  # stored exactly, untrimmed
    assert len(fulfillment_calls) == 0  # the notification waits for commit, which never comes in this test
