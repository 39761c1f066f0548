"""Plain words where people read (issue 23): pages, e-mails and messages show choices by their labels ("In
progress", "Store credit"), never the API's values (``in_progress``, ``storeCredit``). Shared by the browser tests
and the e-mail tests."""

from __future__ import annotations

import re

from django.apps import apps as django_apps

# The project's own apps: their models' choices are what a page or an e-mail must not show raw.
PROJECT_APPS = ("orders", "issues", "appeasements", "returns", "webhooks", "config")

_NOT_A_WORD = re.compile(r"_|[a-z][A-Z]")


def raw_choice_values(apps: tuple[str, ...] = PROJECT_APPS) -> set[str]:
    """Every choice value of the project's models that is not a plain word (in_progress, store_credit,
    PENDING_APPROVAL), and every managed code in camelCase (incorrectItem, storeCredit)."""
    from appeasements.models import AppeasementReason, RefundType

    values = set()
    for app in apps:
        for model in django_apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                for value, _label in getattr(field, "flatchoices", None) or []:
                    if isinstance(value, str):
                        values.add(value)
    values |= set(AppeasementReason.objects.values_list("code", flat=True))
    values |= set(RefundType.objects.values_list("code", flat=True))
    return {v for v in values if _NOT_A_WORD.search(v) or (v.isupper() and len(v) > 3)}


def raw_values_in(text: str, raw: set[str]) -> list[str]:
    """The raw values that ``text`` shows as words of their own (not inside a URL, an id or a longer word)."""
    return sorted(v for v in raw if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text))
