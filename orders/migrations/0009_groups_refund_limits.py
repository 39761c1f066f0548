from django.db import migrations

from config.permissions import sync_groups


class Migration(migrations.Migration):
    """Managers keep refund limits (the appeasement limits became refund limits in appeasements 0006)."""

    dependencies = [
        ("orders", "0008_refund_limits_history_via"),
        ("appeasements", "0006_one_refund_limit_created_by_history_via"),
        ("config", "0002_service_account_grants"),
        ("issues", "0012_approval_involved_refund_kind_history_via"),
        ("returns", "0004_history_via_refund_approval"),
        ("webhooks", "0004_subscription_owner_history_via"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
