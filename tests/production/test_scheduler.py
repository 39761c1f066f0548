"""manage.py scheduler: the periodic commands on their intervals, once per interval across copies, a lock per job."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from config.models import SchedulerJob
from config.scheduler import lock_key
from orders.models import Refund, RefundStatus
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db

JOBS = {
    "follow_up_reminders",
    "pending_notifications",
    "stuck_refunds",
    "appeasement_refunds",
    "issue_metrics_compact",
    "prune_idempotency_keys",
    "webhooks_prune",
}


def scheduler(*args) -> dict[str, str]:
    out = io.StringIO()
    call_command("scheduler", "--once", *args, stdout=out)
    return dict(line.split(": ", 1) for line in out.getvalue().splitlines())


def test_one_pass_runs_every_periodic_command_and_records_it():
    assert scheduler() == dict.fromkeys(JOBS, "ran")
    rows = {row.name: row for row in SchedulerJob.objects.all()}
    assert set(rows) == JOBS
    assert all(row.last_ok and row.last_finished_at >= row.last_started_at for row in rows.values())
    assert rows["stuck_refunds"].last_outcome == "0 stuck refunds sent again"


def test_a_job_runs_again_only_once_its_interval_has_passed():
    scheduler()
    assert scheduler() == dict.fromkeys(JOBS, "not due")  # another copy (or this one) ran them just now
    SchedulerJob.objects.filter(name="stuck_refunds").update(last_started_at=timezone.now() - timedelta(minutes=6))
    results = scheduler()
    assert results.pop("stuck_refunds") == "ran"  # every 300 s
    assert set(results.values()) == {"not due"}
    assert scheduler("--force", "--job", "webhooks_prune") == {"webhooks_prune": "ran"}


def test_the_scheduler_sweeps_a_refund_whose_job_was_lost():
    order = order_with_items(unit_price=Decimal("20.00"))
    lost = Refund.objects.create(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    Refund.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(minutes=20))
    assert scheduler("--job", "stuck_refunds") == {"stuck_refunds": "ran"}
    lost.refresh_from_db()
    assert lost.status == RefundStatus.COMPLETED
    assert SchedulerJob.objects.get(name="stuck_refunds").last_outcome == "1 stuck refunds sent again"


def test_a_failing_job_is_recorded_and_the_others_still_run(settings):
    settings.SCHEDULER_JOBS = {
        "broken": ("webhooks_prune", ["--days", "not-a-number"], 60),
        "stuck_refunds": ("retry_stuck_refunds", [], 60),
    }
    assert scheduler() == {"broken": "failed", "stuck_refunds": "ran"}
    broken = SchedulerJob.objects.get(name="broken")
    assert broken.last_ok is False
    assert "not-a-number" in broken.last_outcome


@pytest.mark.parametrize("args", [["--job", "nope"], ["--force"]])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError):
        call_command("scheduler", *args) if args == ["--force"] else scheduler(*args)
    assert not SchedulerJob.objects.exists()


def test_lock_keys_are_stable_signed_64_bit_and_distinct():
    keys = {lock_key(name) for name in JOBS}
    assert len(keys) == len(JOBS)
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert lock_key("stuck_refunds") == lock_key("stuck_refunds")


@pytest.mark.postgres("advisory locks")
def test_a_job_another_copy_holds_is_skipped():
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg.connect(**params, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key("stuck_refunds")])
        results = scheduler()
        assert results["stuck_refunds"] == "locked"
        assert results["webhooks_prune"] == "ran"
        assert not SchedulerJob.objects.filter(name="stuck_refunds").exists()
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key("stuck_refunds")])
        assert scheduler("--job", "stuck_refunds") == {"stuck_refunds": "ran"}
    finally:
        other.close()
