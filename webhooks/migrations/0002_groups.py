from django.db import migrations

from config.permissions import sync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("appeasements", "0002_reasons_refund_types_groups"),
        ("returns", "0002_return_codes_and_groups"),
        ("issues", "0002_groups"),
        ("orders", "0002_groups"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
