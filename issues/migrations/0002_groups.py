from django.db import migrations

from config.permissions import sync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0001_initial"),
        ("orders", "0002_groups"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
