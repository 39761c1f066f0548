"""Seeds the appeasement reason codes and refund types, and grants the appeasement permissions."""

from django.db import migrations

from config.permissions import sync_groups

REASONS = [
    ("incorrectItem", "Incorrect item delivered"),
    ("itemArrivedDamaged", "Item arrived damaged"),
    ("itemMissing", "Item missing from the delivery"),
    ("lateDelivery", "Delivery arrived late"),
    ("poorQuality", "Item quality below expectations"),
    ("priceAdjustment", "Price adjustment"),
    ("shippingIssue", "Problem with the shipping"),
    ("serviceIssue", "Poor customer service experience"),
    ("goodwill", "Goodwill gesture"),
]

# code, description, requires a payment group, refund ledger source
REFUND_TYPES = [
    ("creditCard", "Refund to the card the order was paid with", True, "merchant"),
    ("externalRefund", "Refund made outside the platform (recorded here)", False, "platform"),
    ("storeCredit", "Store credit for the customer", False, "store_credit"),
]


def seed(apps, schema_editor):
    Reason = apps.get_model("appeasements", "AppeasementReason")
    RefundType = apps.get_model("appeasements", "RefundType")
    for code, description in REASONS:
        Reason.objects.get_or_create(code=code, defaults={"description": description})
    for code, description, requires, source in REFUND_TYPES:
        RefundType.objects.get_or_create(
            code=code,
            defaults={"description": description, "requires_payment_group": requires, "ledger_source": source},
        )
    sync_groups(apps, schema_editor)


def unseed(apps, schema_editor):
    apps.get_model("appeasements", "AppeasementReason").objects.filter(
        code__in=[c for c, _ in REASONS], appeasements__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appeasements", "0001_initial"),
        ("orders", "0002_groups"),
        ("issues", "0002_groups"),
        ("returns", "0002_return_codes_and_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
