"""Enqueueing background work so that it never runs before the write that caused it commits."""

from __future__ import annotations

from django.db import connection, transaction
from django_tasks import task_backends


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task`` for after the current transaction.

    With the database backend the task row is written inside the transaction (it commits or rolls
    back with the change and survives a crash after commit); any other backend is called from
    ``on_commit``, so nothing is sent for a change that rolls back.
    """
    backend = task_backends[task.backend]
    if connection.in_atomic_block and type(backend).__module__.startswith("django_tasks_db"):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
