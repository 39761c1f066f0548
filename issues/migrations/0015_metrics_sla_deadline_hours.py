"""The metrics rollup's SLA keys carry the deadline hour of each running clock, and the rollup counts resolved
issues per bucket of resolution time for the percentiles (issues/metrics.py).

Before, an issue whose later deadline fell today or later was evaluated live at every read: at 1M issues, every
open issue of the last week (66,699 in the bench data, 77-115 ms a read). Now only the issues with a deadline
within the current hour are. The new trigger functions replace the old ones, and the rollup is rebuilt with the
new keys, in this migration's transaction: it holds issue writes while it runs (about a minute for 1M issues,
docs/operations.md). Going back leaves the new keys, which older code misreads: after migrating back past this
migration, run ``manage.py issue_metrics_rebuild`` with that code."""

from django.db import migrations


def install(apps, schema_editor):
    from issues import metrics

    metrics.install(schema_editor)
    metrics.rebuild(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("issues", "0014_issue_open_queue_index")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
