"""Seeds the return and cancellation codes and grants the returns permissions to the groups."""

from django.db import migrations

from config.permissions import sync_groups

RETURN_CODES = [
    ("2001", "Customer is no longer interested in product"),
    ("2002", "Item arrived damaged"),
    ("2003", "Item is defective or does not work"),
    ("2004", "Wrong item was delivered"),
    ("2005", "Item does not match the description"),
    ("2006", "Item arrived too late"),
    ("2007", "Size or fit is not right"),
    ("2008", "Ordered by mistake"),
    ("2009", "Missing parts or accessories"),
    ("2010", "Better price found elsewhere"),
    ("2011", "Package was never received by the customer"),
]

CANCELLATION_CODES = [
    ("1001", "Customer changed their mind"),
    ("1002", "Ordered by mistake"),
    ("1003", "Delivery would take too long"),
    ("1004", "Item is out of stock"),
    ("1005", "Payment could not be completed"),
    ("1006", "Duplicate order"),
    ("1007", "Suspected fraud"),
]


def seed_codes(apps, schema_editor):
    ReturnReason = apps.get_model("returns", "ReturnReason")
    for kind, codes in (("return", RETURN_CODES), ("cancellation", CANCELLATION_CODES)):
        for code, description in codes:
            ReturnReason.objects.get_or_create(code=code, defaults={"kind": kind, "description": description})


def unseed_codes(apps, schema_editor):
    ReturnReason = apps.get_model("returns", "ReturnReason")
    codes = [c for c, _ in RETURN_CODES + CANCELLATION_CODES]
    ReturnReason.objects.filter(code__in=codes, returns__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("orders", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed_codes, unseed_codes),
        migrations.RunPython(sync_groups, migrations.RunPython.noop),
    ]
