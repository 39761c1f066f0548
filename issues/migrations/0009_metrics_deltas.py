"""Append-only metrics: the triggers append signed deltas instead of updating counter rows (issues/metrics.py).

The rollup a database already has stays valid: the functions are replaced, their triggers now append to the new
tables. Going back folds the deltas into the rollup and drops the triggers (the 0008 functions are not kept):
after migrating forward again, run ``manage.py issue_metrics_rebuild``."""

from django.db import migrations, models
from django.utils import timezone


def install(apps, schema_editor):
    from issues import metrics

    metrics.install(schema_editor)


def uninstall(apps, schema_editor):
    from issues import metrics

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql, table in (
            (metrics.COMPACT_SQL, metrics.DELTAS),
            (metrics.COMPACT_CUSTOMERS_SQL, metrics.CUSTOMER_DELTAS),
        ):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 (fixed text)
            cursor.execute(sql, {"last": cursor.fetchone()[0], **metrics.fold_cutoff(timezone.now())})
    metrics.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0008_metrics_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="IssueMetricsCustomerDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.CharField(max_length=254)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="IssueMetricsDelta",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("metric", models.CharField(max_length=16)),
                ("key", models.CharField(max_length=255)),
                ("n", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=18)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
