"""Every changelist of the project's own admins fits a 390 px phone and a 1280 px screen and speaks plainly (issue 23),
in Debian's Chromium.

The changelists are enumerated from the admin registry, not listed by hand: every ModelAdmin registered for a model
of the project's own apps, or defined in one of them (the employees' and groups' admins of ``config``). Third-party
admins registered by their own apps (DRF's tokens, API keys, axes, the task results) are skipped, each with its
reason printed. A new admin is checked the day it is registered.

Each list is opened with a row of everything in it (the hardening matrix's world: an object of every model, issues in
every status, appeasements, a return, webhooks, API keys, requests waiting), by a manager where a manager may read it,
else by an administrator. On each, at 390 and 1280 px: no sideways scroll of the page, no cell cut off, and no raw
choice value (``in_progress``, ``storeCredit``, ``PENDING_APPROVAL``) in what it shows or its filters offer; at
1280 px the issue, order and appeasement lists show every column without scrolling their table.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.urls import reverse

from config.permissions import sync_groups
from tests.e2e.test_daily_flow import log_in
from tests.hardening.test_admin_matrix import _build_world
from tests.plain_words import raw_choice_values, raw_values_in

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (390, 1280)
# Their key columns in view at 1280 px, without scrolling the table (docs/admin.md)
KEY_COLUMNS_AT_1280 = {"issues.OrderIssue", "orders.Order", "appeasements.Appeasement"}
# A managed list shows its own codes: they are its data (what the API sends and a manager keeps there).
OWN_CODES = {"appeasements.AppeasementReason", "appeasements.RefundType", "returns.ReturnReason"}


# The cells whose content is taller than the cell (django-unfold's phone cards have fixed-height lines): their text.
CLIPPED_CELLS = """[...document.querySelectorAll('#result_list td, #result_list th')]
    .filter(cell => cell.scrollHeight > cell.clientHeight + 1).map(cell => cell.innerText.slice(0, 40))"""


def project_app(app_label: str) -> bool:
    path = Path(django_apps.get_app_config(app_label).path).resolve()
    return path.is_relative_to(ROOT) and ".venv" not in path.parts


def project_changelists() -> list[tuple[str, str]]:
    """(model label, changelist URL) of every admin the project registers; the others are printed as skipped."""
    chosen = []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        owner = type(model_admin).__module__.split(".")[0]
        if project_app(model._meta.app_label) or (owner in django_apps.app_configs and project_app(owner)):
            opts = model._meta
            chosen.append((opts.label, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")))
        else:
            print(f"skipped {model._meta.label}: a third-party app's own admin ({type(model_admin).__module__})")
    return chosen


def test_the_project_changelists_are_found_in_the_registry():
    labels = {label for label, _url in project_changelists()}
    assert {"issues.OrderIssue", "orders.Order", "appeasements.Appeasement", "issues.ApprovalRequest"} <= labels
    assert {"webhooks.OutboxEvent", "returns.AccountAPIKey", "auth.User"} <= labels
    assert not labels & {"axes.AccessLog", "authtoken.TokenProxy", "rest_framework_api_key.APIKey"}


def managed_codes_again() -> None:
    """The codes the data migrations seed (reasons, refund types, return codes), which an earlier transactional
    test flushed: written again by the migrations' own functions."""
    importlib.import_module("appeasements.migrations.0002_reasons_refund_types_groups").seed(django_apps, None)
    importlib.import_module("returns.migrations.0002_return_codes_and_groups").seed_codes(django_apps, None)


def visible_text(page, label: str) -> str:
    """What the page shows; on a managed list, without its own code column."""
    if label in OWN_CODES:
        return page.evaluate(
            "(() => { const copy = document.body.cloneNode(true);"
            " copy.querySelectorAll('.field-code').forEach(cell => cell.remove());"
            " document.body.after(copy); const text = copy.innerText; copy.remove(); return text; })()"
        )
    return page.evaluate("document.body.innerText")


def test_every_changelist_fits_and_speaks_plainly(live_server, page, shots):
    sync_groups(django_apps)
    managed_codes_again()
    world = _build_world()
    root, manager = world["root"], world["people"]["manager"]
    root.set_password(f"pass-{root.username}")
    root.save()
    raw = raw_choice_values()
    problems = []
    lists = project_changelists()
    for who in (manager, root):
        log_in(page, live_server.url, who.username)
        for label, url in lists:
            model = django_apps.get_model(label)
            readable = who.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
            if who is root and manager.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
                continue  # read by the manager
            if not readable:
                continue
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state()
            if page.locator("#result_list tbody tr").count() == 0:  # its choices show only in rows
                problems.append(f"{label}: no rows at {url} ({page.title()})")
                continue
            name = label.replace(".", "-")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.wait_for_timeout(100)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    problems.append(f"{label}: the page is {scroll} px wide at {width}")
                clipped = page.evaluate(CLIPPED_CELLS)
                if clipped:
                    problems.append(f"{label}: cells cut off at {width} px: {clipped}")
                shots(page, f"{name}-{width}")
            table, box = page.evaluate("[result_list.scrollWidth, result_list.parentElement.clientWidth]")
            if label in KEY_COLUMNS_AT_1280 and table > box:
                problems.append(f"{label}: its table scrolls sideways at 1280 px ({table} > {box})")
            # and the filters' choices, in the drawer the Filters button opens
            filters = page.evaluate("(document.getElementById('changelist-filter') || {}).textContent || ''")
            found = raw_values_in(visible_text(page, label) + "\n" + filters, raw)
            if found:
                problems.append(f"{label}: shows raw values {found}")
            print(f"checked {label} as {who.username}")
    assert not problems, "\n".join(problems)
