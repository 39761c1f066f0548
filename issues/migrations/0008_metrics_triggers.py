"""Triggers, functions and indexes that keep the metrics rollup (PostgreSQL only): see issues/metrics.py."""

from django.db import migrations


def install(apps, schema_editor):
    from issues import metrics

    metrics.install(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(metrics.REBUILD_SQL)


def uninstall(apps, schema_editor):
    from issues import metrics

    metrics.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0007_metrics_rollup"),
        ("orders", "0005_perf_indexes"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
