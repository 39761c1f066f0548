"""New indexes are built concurrently on PostgreSQL (docs/operations.md, "Releasing"): a plain ``AddIndex`` locks
the table's writes while it builds. The migrations written before this rule stay as they were."""

from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddIndex

from config.db_operations import AddIndexConcurrently

BEFORE_THE_RULE = {
    ("appeasements", "0001_initial"),
    ("issues", "0001_initial"),
    ("orders", "0001_initial"),
    ("webhooks", "0001_initial"),
    ("appeasements", "0004_perf_indexes"),
    ("issues", "0004_sla_clocks"),
    ("issues", "0005_perf_indexes"),
    ("issues", "0010_status_created_index"),
    ("orders", "0005_perf_indexes"),
    ("orders", "0007_order_channel_index"),
}
APPS = {"orders", "issues", "appeasements", "returns", "webhooks", "config", "desk"}


def test_new_indexes_are_added_concurrently_by_non_atomic_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    offenders = []
    for (app, name), migration in loader.disk_migrations.items():
        if app not in APPS:
            continue
        for operation in migration.operations:
            if isinstance(operation, AddIndexConcurrently) and migration.atomic:
                offenders.append(f"{app}.{name}: AddIndexConcurrently needs atomic = False")
            elif type(operation) is AddIndex and (app, name) not in BEFORE_THE_RULE:
                offenders.append(f"{app}.{name}: AddIndex {operation.index.name} (use config.db_operations)")
    assert offenders == []
