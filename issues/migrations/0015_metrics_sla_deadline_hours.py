"""The metrics rollup keys the SLA clocks by the deadline hour of each running clock (``sla_clock``), and counts
resolved issues per bucket of resolution time for the percentiles (issues/metrics.py).

Before, an issue whose later deadline fell today or later was evaluated live at every read: at 1M issues, every
open issue of the last week (66,699 in the bench data, 77-115 ms a read). Now only the issues with a deadline
within the current hour are. The new trigger functions replace the old ones and the rollup is rebuilt, in this
migration's transaction: it holds issue writes while it runs (40 s for 1M issues here). The old ``sla`` key is
still written, so the previous code, serving during a rolling deploy, keeps reading right (and going back needs
nothing); the next release drops it."""

from django.db import migrations


def install(apps, schema_editor):
    from issues import metrics

    metrics.install(schema_editor)
    metrics.rebuild(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("issues", "0014_issue_open_queue_index")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
