"""The issue update's input: what a caller sent, and nothing else (issues.services.update.IssueChange)."""

import pytest

from issues.api.serializers import IssueUpdateInput
from issues.services import IssueChange
from issues.services.update import FIELD_ORDER, UNSET


def test_a_field_not_sent_is_not_the_same_as_null():
    change = IssueChange.of({"assigned_to": None})
    assert change.sent("assigned_to")
    assert change.assigned_to is None
    assert not change.sent("notes")
    assert change.notes is UNSET
    assert change.value("notes") is None


def test_a_field_the_contract_does_not_have_is_a_programming_error():
    with pytest.raises(ValueError, match="updated_by"):
        IssueChange.of({"status": "resolved", "updated_by": "emp_cs_001"})


def test_the_change_holds_every_field_of_the_update_body_but_the_actor():
    """``updated_fields`` lists fields in the dataclass's order, which is the contract's (tests/issues/test_patch_api.py
    checks an answer's order)."""
    body = IssueUpdateInput().fields
    assert FIELD_ORDER == tuple(name for name in body if name != "updated_by")
