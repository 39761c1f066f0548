from django.db import migrations, models

from config.db_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL: refund writes go on while it builds

    dependencies = [("orders", "0011_refund_cause_cancellation")]

    operations = [
        AddIndexConcurrently(
            model_name="refund",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "processing"])),
                fields=["updated_at"],
                name="refund_unsettled_idx",
            ),
        ),
    ]
