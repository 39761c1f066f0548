"""The read replica (docs/operations.md, "Read replica"): with ``DATABASE_REPLICA_URL`` set, the reads made within
:func:`reads_from_replica` go to the ``replica`` database: the managers' dashboard, the business gauges of
``/metrics`` and the read-only API lists (``BackOfficeView.replica_methods``). Every write goes to the primary,
and so does any read inside a transaction on the primary (a service's reads before its write, or a read that must
see the transaction's own rows). Authentication and permission checks run before the list reads, on the primary.

A replica lags the primary a little: a list read just after a write may not show it yet. That is why only reads
that tolerate it are marked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def start_replica_reads():
    """Mark the reads that follow as replica reads; returns the token for :func:`stop_replica_reads`."""
    return _replica_reads.set(True)


def stop_replica_reads(token) -> None:
    _replica_reads.reset(token)


@contextmanager
def reads_from_replica() -> Iterator[None]:
    token = start_replica_reads()
    try:
        yield
    finally:
        stop_replica_reads(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _replica_reads.get()
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block  # inside a write's transaction: the primary
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication
