from django.db import migrations, models

from config.db_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL: appeasement writes go on while it builds

    dependencies = [
        ("appeasements", "0006_one_refund_limit_created_by_history_via"),
        ("orders", "0012_refund_unsettled_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="appeasementrefund",
            index=models.Index(
                condition=models.Q(("state", "INCOMPLETE")),
                fields=["ledger_refund"],
                name="appeasement_refund_open_idx",
            ),
        ),
    ]
