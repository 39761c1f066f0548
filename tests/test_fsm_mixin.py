"""config.fsm.ConcurrentTransitionMixin: django-fsm-2's check at save, its state fields found once per model."""

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition

from issues.models import OrderIssue
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def test_a_save_over_a_state_changed_underneath_still_fails():
    issue = issue_factory(order_with_items(items=1))
    stale = OrderIssue.objects.get(pk=issue.pk)
    OrderIssue.objects.filter(pk=issue.pk).update(status="investigating")
    stale.priority = "high"
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert OrderIssue.objects.get(pk=issue.pk).priority == issue.priority


def test_the_state_fields_are_found_once_per_model_and_a_deferred_state_is_still_read():
    issue = issue_factory(order_with_items(items=1))
    loaded = OrderIssue.objects.get(pk=issue.pk)
    assert [f.name for f in loaded.state_fields] == ["status"]
    assert OrderIssue.__dict__["_fsm_state_fields"] is loaded.state_fields
    deferred = OrderIssue.objects.only("pk", "title").get(pk=issue.pk)
    assert deferred._ConcurrentTransitionMixin__initial_states == {"status": issue.status}
