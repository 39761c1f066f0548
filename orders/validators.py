"""Format rules for item metadata (docs/api/backoffice.md), shared by the API serializers and admin forms."""

import re

from django.core.exceptions import ValidationError

_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def validate_no_html(value: str) -> None:
    """Plain text only: no HTML tags, entities or markup."""
    if value and _HTML.search(value):
        raise ValidationError("HTML or special formatting is not allowed")


ITEM_LIMITS = {
    "special_instructions": 500,
    "store_item_name": 200,
    "store_item_description": 1000,
    "store_item_size": 50,
    "preparation_notes": 1000,
}
