"""Enqueueing background work so that it never runs before the write that caused it commits.

The promise (docs/adr/0014-task-backend-on-several-nodes.md): a committed write is never answered with an error
because its background work could not be queued. With the database backend the task row is part of the write's
transaction. With any other backend (RQ) the job is sent after commit; if that fails (Redis down) the failure is
logged and the write stands: the sweeps (``retry_stuck_refunds``, ``webhooks_dispatch``) find the work by its rows
and do it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_tasks import task_backends

logger = logging.getLogger(__name__)


def _task_name(task) -> str:
    return getattr(task, "module_path", None) or getattr(task, "name", None) or repr(task)


class _AfterCommit:
    """An ``on_commit`` callback that enqueues a task, or (``task`` None) only marks that one is enqueued already.

    ``key`` names the job for :func:`enqueue_once_per_transaction`; ``done`` is set once it ran, so a callback left
    in the connection's list (tests run them without committing) no longer stands for the next transaction.
    """

    def __init__(self, task, args, kwargs, key=None):
        self.task, self.args, self.kwargs, self.key = task, args, kwargs, key
        self.done = False

    def __call__(self) -> None:
        self.done = True
        if self.task is None:
            return
        try:
            self.task.enqueue(*self.args, **self.kwargs)
        except Exception:  # noqa: BLE001 - the write is committed; a sweep does the work (module docstring)
            logger.exception(
                "could not enqueue %s after commit; the write stands and the sweeps will pick the work up",
                _task_name(self.task),
            )


def _enqueues_in_transaction(task, connection) -> bool:
    backend = task_backends[task.backend]
    return connection.in_atomic_block and type(backend).__module__.startswith("django_tasks_db")


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task`` for after the current transaction.

    With the database backend the task row is written inside the transaction (it commits or rolls
    back with the change and survives a crash after commit); any other backend is called from
    ``on_commit``, so nothing is sent for a change that rolls back, and a failure to send is logged, never raised.
    """
    connection = transaction.get_connection()
    if _enqueues_in_transaction(task, connection):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(_AfterCommit(task, args, kwargs))


def enqueue_once_per_transaction(task, *args, **kwargs) -> None:
    """:func:`enqueue_after_commit`, once per transaction for the same task and arguments: a transaction that
    emits ten webhook events enqueues one dispatch job, not ten. A savepoint rolled back takes its job (and its
    mark) with it, so a later call in the same transaction enqueues again."""
    connection = transaction.get_connection()
    key = (_task_name(task), repr(args), repr(sorted(kwargs.items())))
    if connection.in_atomic_block:
        for entry in connection.run_on_commit:
            callback = entry[1]
            if isinstance(callback, _AfterCommit) and callback.key == key and not callback.done:
                return
    if _enqueues_in_transaction(task, connection):
        task.enqueue(*args, **kwargs)
        transaction.on_commit(_AfterCommit(None, args, kwargs, key))
    else:
        transaction.on_commit(_AfterCommit(task, args, kwargs, key))
