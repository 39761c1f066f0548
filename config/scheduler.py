"""The scheduler process (``manage.py scheduler``; docs/operations.md, "Processes"): the periodic commands on their
intervals, safe with several copies running.

Each job runs under a lock of its own, ``pg_try_advisory_lock`` on PostgreSQL (a copy that does not get it skips the
job: another copy is running it), and reads when it last started (:class:`config.models.SchedulerJob`): a job is
started when its interval has passed since any copy last started it, so two copies never run it twice in one
interval. On SQLite the lock is a no-op (one process writes at a time). A job that fails is logged and recorded;
the others go on.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from config.models import SchedulerJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    command: str
    args: tuple[str, ...]
    every: timedelta


def jobs() -> list[Job]:
    """The jobs of ``settings.SCHEDULER_JOBS``: ``name -> (command, args, seconds)``."""
    return [
        Job(name, command, tuple(args), timedelta(seconds=seconds))
        for name, (command, args, seconds) in settings.SCHEDULER_JOBS.items()
    ]


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job."""
    digest = hashlib.sha256(f"backoffice.scheduler:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Yields whether this process holds the job's lock (always True off PostgreSQL)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except Exception:  # noqa: BLE001 - a closed connection released the lock already
                logger.warning("scheduler: could not release the lock of %s", name, exc_info=True)


def _claim(job: Job, now: datetime, *, force: bool) -> bool:
    """Record that ``job`` starts now, unless a copy started it within its interval (``force``: start anyway)."""
    with transaction.atomic():
        row, _ = SchedulerJob.objects.select_for_update().get_or_create(name=job.name)
        if not force and row.last_started_at is not None and row.last_started_at + job.every > now:
            return False
        row.last_started_at = now
        row.save(update_fields=["last_started_at"])
        return True


def run_job(job: Job, *, now: datetime | None = None, force: bool = False) -> str:
    """Run ``job`` if it is due and no other copy runs it. Returns ``ran``, ``failed``, ``not due`` or ``locked``."""
    now = now or timezone.now()
    with job_lock(job.name) as held:
        if not held:
            return "locked"
        if not _claim(job, now, force=force):
            return "not due"
        out = io.StringIO()
        try:
            call_command(job.command, *job.args, stdout=out, verbosity=1)
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            logger.exception("scheduler: %s failed", job.name)
            outcome, ok = f"{type(exc).__name__}: {exc}"[:500], False
        else:
            lines = [line for line in out.getvalue().splitlines() if line.strip()]
            outcome, ok = (lines[-1] if lines else "")[:500], True
            logger.info("scheduler: %s ran: %s", job.name, outcome)
        SchedulerJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_outcome=outcome, last_ok=ok
        )
        return "ran" if ok else "failed"


def run_due(*, only: list[str] | None = None, force: bool = False) -> dict[str, str]:
    """One pass over the jobs (``only``: those names). Returns each job's result."""
    return {job.name: run_job(job, force=force) for job in jobs() if not only or job.name in only}
