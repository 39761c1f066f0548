from django.db import migrations, models

from config.db_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL: issue writes go on while it builds

    dependencies = [("issues", "0013_refund_failed_notification")]

    operations = [
        AddIndexConcurrently(
            model_name="orderissue",
            index=models.Index(
                condition=models.Q(("status__in", ["resolved", "closed"]), _negated=True),
                fields=["assigned_to", "created_at", "id"],
                name="issue_open_queue_idx",
            ),
        ),
    ]
