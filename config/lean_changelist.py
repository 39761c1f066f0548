"""django-unfold's (0.91) changelist table, rendered in Python: the same HTML, byte for byte, as its
``admin/change_list_results.html`` (issue 23: the changelists' server time).

For each of a page's 50 rows that template checks the model admin's ordering field twice and its sections twice,
cycles the row's class, loops over the row's cells and includes the row actions' template: about 9 ms of an issue
changelist, more than the cells themselves. Here the table is joined from the template's own text, with the same
cells (Unfold's ``items_for_result``), headers (its ``change_list_headers.html``) and row actions (its
``actions_row.html``, rendered once when a row has none, else for each row).

Only the plain table is rendered here; a changelist with editable columns (hidden fields, forms), a drag-to-order
field, expandable sections or no rows renders through Unfold's template, as before. The project's admins use it
through ``admin/lean_change_list.html`` (config.admin_mixins); tests/admin/test_lean_changelist_results.py compares
the two renderings on every changelist of the daily flow.
"""

from __future__ import annotations

import datetime
import html

from django.contrib.admin.templatetags.admin_list import _coerce_field_name
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import FieldIsAForeignKeyColumnName, _get_non_gfk_field, lookup_field
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from unfold import utils as unfold_utils
from unfold.templatetags import unfold_list
from unfold.utils import (
    display_for_dropdown,
    display_for_field,
    display_for_header,
    display_for_label,
    display_for_value,
)

from config.admin_urls import change_url


def value_renderer(context):
    """``value(x)``: what ``{{ x }}`` renders to in ``context`` (``render_value_in_context``), a plain string escaped
    at once (what the engine comes to for one: ``escape``). Shared by the admin's renderings in Python."""
    autoescape = context.autoescape

    def value(x) -> str:
        if autoescape and type(x) is str:
            return html.escape(x)
        return render_value_in_context(x, context)

    return value


ROWS_TEMPLATE = "change_list_results.html"
HEADERS_TEMPLATE = "unfold/helpers/change_list_headers.html"
ACTIONS_ROW_TEMPLATE = "unfold/helpers/actions_row.html"

TABLE_BOX = (
    "-mx-1 px-1 overflow-x-auto lg:border lg:border-base-200 lg:mx-0 lg:px-0 lg:shadow-xs lg:dark:border-base-800 "
    "lg:bg-white lg:dark:bg-base-900"
)
TABLE = 'id="result_list" class="result-list block border-base-200 border-spacing-none border-separate w-full lg:table"'
ROW = (
    "data-row block border border-base-200 mb-3 relative rounded-default lg:table-row lg:border-none lg:mb-0 "
    "lg:rounded-none dark:border-base-800"
)
STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")  # the template's {% cycle %}


def plain(context) -> bool:
    """Whether ``render_results`` renders this changelist's table itself (else Unfold's template does)."""
    cl = context["cl"]
    model_admin = cl.model_admin
    return bool(
        context.get("results")
        and not context.get("result_hidden_fields")
        and not getattr(cl, "formset", None)
        and not getattr(model_admin, "ordering_field", None)
        and not len(getattr(model_admin, "list_sections", None) or [])
    )


def render_results(context, engine) -> str | None:
    """Unfold's ``change_list_results.html`` for the inclusion context of its ``result_list`` (``context``), or None
    when the table is not a plain one (``plain``)."""
    if not plain(context):
        return None
    cl = context["cl"]
    headers = engine.get_template(HEADERS_TEMPLATE)
    with context.push():
        headers_html = headers.render(context)
    actions = context.get("actions_row")
    actions_template = engine.get_template(ACTIONS_ROW_TEMPLATE)
    none_html = None
    rows = []
    for i, result in enumerate(context["results"]):
        if actions:
            with context.push(actions=actions, instance_pk=result.instance.pk):
                actions_html = actions_template.render(context)
        else:
            if none_html is None:
                with context.push(actions=actions, instance_pk=result.instance.pk):
                    none_html = actions_template.render(context)
            actions_html = none_html
        cells = "".join(f"\n                            {item}\n                        " for item in result)
        rows.append(
            f'\n                <tbody class="block relative lg:table-row-group {STRIPES[i % 2]}" '
            'x-data="{rowOpen: false}" >\n                    \n\n'
            f'                    <tr class="{ROW}">\n                        \n\n                        \n\n'
            f"                        {cells}\n\n                        {actions_html}\n                    </tr>\n\n"
            "                    \n                </tbody>\n            "
        )
    rounded = "lg:rounded-b-default" if cl.search_fields or cl.has_filters else "lg:rounded-default"
    scrollbar = "simplebar-horizontal-scrollbar-top" if cl.model_admin.list_horizontal_scrollbar_top else ""
    return (
        "\n\n\n\n"
        f'\n    <div class="{rounded} {TABLE_BOX} {scrollbar}" data-simplebar data-simplebar-auto-hide="false">\n'
        f"        <table {TABLE} >\n            {headers_html}\n\n            {''.join(rows)}\n        </table>\n"
        "    </div>\n\n"
    )


# --------------------------------------------------------------------------- the cells of each row


def result_list(context, cl) -> dict:
    """Unfold's ``result_list`` (the inclusion context of its table), each row's cells from ``row_cells``."""
    headers = list(unfold_list.result_headers(cl))  # built once per changelist (desk.unfold_fixes)
    return {
        "cl": cl,
        "result_hidden_fields": list(unfold_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": list(results(cl, headers)),
        "actions_row": context.get("actions_row"),
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }


def results(cl, headers):
    """Unfold's ``results``: a changelist with editable columns keeps its ``items_for_result``."""
    if getattr(cl, "formset", None):
        yield from unfold_list.results(cl)
        return
    cells = row_cells(cl, headers)
    for result in cl.result_list:
        yield unfold_list.UnfoldResultList(result, None, cells(result))


_FIELD_LABELS: dict = {}  # (id(field), language) -> (field, {value: label})
_BOOLEAN_ICONS: dict = {}  # (None / True / False, language) -> Unfold's boolean icon


def boolean_icon(value) -> str:
    """Unfold's ``_boolean_icon(value)`` (its ``unfold/helpers/boolean.html``), rendered once per state (unknown,
    yes, no) and language instead of once per cell: a list with a yes/no column rendered the template 50 times."""
    key = (None if value == "" or value is None else bool(value), get_language())
    icon = _BOOLEAN_ICONS.get(key)
    if icon is None:
        icon = _BOOLEAN_ICONS[key] = unfold_utils._boolean_icon(value)
    return icon


def field_display(value, field, empty_value_display):
    """Unfold's ``display_for_field(value, field, empty_value_display)``, the same text, with a choice field's labels
    gathered once per field and language (Unfold builds ``dict(field.flatchoices)`` for each cell) and a yes/no
    field's icon from ``boolean_icon``."""
    if getattr(field, "flatchoices", None):
        key = (id(field), get_language())
        known = _FIELD_LABELS.get(key)
        if known is None or known[0] is not field:
            known = _FIELD_LABELS[key] = (field, dict(field.flatchoices))
        try:
            return known[1].get(value, empty_value_display)
        except TypeError:  # an unhashable value: Unfold's own way
            return display_for_field(value, field, empty_value_display)
    if isinstance(field, models.BooleanField):
        return boolean_icon(value)
    return display_for_field(value, field, empty_value_display)


def column_lookup(cl, name):
    """``lookup(result)``: Django's ``lookup_field(name, result, cl.model_admin)`` for the rows of ``cl``, with what
    is the same for every row found once. ``lookup_field`` first asks the model for a field of that name, and for a
    column that is a method of the admin (most of the project's) that costs an exception per cell."""
    model_admin = cl.model_admin
    try:
        field = _get_non_gfk_field(cl.lookup_opts, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        if callable(name):
            return lambda result: (None, name, name(result))
        if hasattr(model_admin, name) and name != "__str__":
            method = getattr(model_admin, name)
            return lambda result: (None, method, method(result))
        return lambda result: lookup_field(name, result, model_admin)  # a model's attribute or a path: per row
    return lambda result: (field, None, getattr(result, name))


def plain_cell(cl, name: str, tag, label: str, base: list[str], empty) -> tuple[str, str] | None:
    """For a column of the admin's own (a method or a callable: most of the project's) shown as it comes, neither a
    link nor hidden: the cell's markup before its value, and the cell's text for None. ``cells`` then puts a text,
    safe or plain, or None straight into the cell, as Unfold's ``items_for_result`` would (its
    ``display_for_value`` gives a text back as it is, ``conditional_escape`` escapes a plain one); any other value
    takes the whole way. None: every cell of the column takes the whole way."""
    model_admin = cl.model_admin
    if tag is not None or name == getattr(model_admin, "ordering_field", None):
        return None
    if callable(name):
        attr = name
    elif hasattr(model_admin, name) and name != "__str__":
        try:
            _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            attr = getattr(model_admin, name)
        else:
            return None  # a field of the model: lookup_field reads the field
    else:
        return None
    if any(getattr(attr, flag, False) for flag in ("label", "dropdown", "header", "boolean")):
        return None
    classes = unfold_list.CHECKBOX_CLASSES if name == "action_checkbox" else base
    empty_html = conditional_escape(getattr(attr, "empty_value_display", empty))
    return f'<td class="{" ".join(classes)}" data-label="{label}">', empty_html


def row_cells(cl, headers):
    """``cells(result)``: Unfold's ``items_for_result(cl, result, None)``, the same HTML, with what is the same for
    every row (empty value, classes, header labels, the change link's address pattern and its preserved filters)
    worked out once per changelist instead of once per cell."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    hidden = (
        getattr(model_admin, "ordering_field", None) if getattr(model_admin, "hide_ordering_field", False) else None
    )
    link_classes = " ".join(unfold_list.LINK_CLASSES)
    select_record = conditional_escape(str(_("Select record")))
    pk_attname = cl.lookup_opts.pk.attname
    link_attr = str(cl.to_field) if cl.to_field else pk_attname
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        linked = cl.list_display_links is not None and (
            (first and not cl.list_display_links) or name in cl.list_display_links
        )
        tag = None
        if linked:
            tag, first = ("th" if first else "td"), False
        label = select_record if index == 0 and not linked else conditional_escape(headers[index]["text"])
        base = [f"field-{_coerce_field_name(name, index)}", *unfold_list.ROW_CLASSES]
        lookup = column_lookup(cl, name)
        columns.append((name, tag, label, base, name == hidden, lookup, plain_cell(cl, name, tag, label, base, empty)))
    change = f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change"
    site = model_admin.admin_site.name
    filters = {}  # the preserved filters' part of a change link: the same for every row

    def link(result) -> str:
        """``add_preserved_filters(preserved, cl.url_for_result(result))``: the row's address from ``change_url``
        (reversed once per list), the preserved filters worked out for the first row."""
        pk = getattr(result, cl.pk_attname)
        if type(pk) is not int or "suffix" in filters and filters["suffix"] is None:
            return add_preserved_filters(preserved, cl.url_for_result(result))
        url = change_url(change, pk, current_app=site)
        if "suffix" not in filters:
            full = add_preserved_filters(preserved, url)
            filters["suffix"] = full[len(url) :] if full.startswith(url) and "?" not in url else None
            return full
        return url + filters["suffix"]

    preserved = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}

    def cells(result):
        for name, tag, label, base, hide, lookup, plain in columns:
            if plain is not None:
                head, empty_html = plain
                try:
                    value = lookup(result)[2]
                except ObjectDoesNotExist:
                    pass  # the cell as below
                else:
                    kind = type(value)
                    if kind is SafeString:
                        yield mark_safe(f"{head}{value}</td>")  # noqa: S308
                        continue
                    if kind is str:
                        yield mark_safe(f"{head}{html.escape(value)}</td>")  # noqa: S308
                        continue
                    if value is None:
                        yield mark_safe(f"{head}{empty_html}</td>")  # noqa: S308
                        continue
            row_classes = list(base)
            empty_value_display = empty
            try:
                f, attr, value = lookup(result)
            except ObjectDoesNotExist:
                result_repr = empty_value_display
            else:
                empty_value_display = getattr(attr, "empty_value_display", empty_value_display)
                if f is None or f.auto_created:
                    if name == "action_checkbox":
                        row_classes = unfold_list.CHECKBOX_CLASSES
                    if getattr(attr, "label", False):
                        result_repr = display_for_label(value, empty_value_display, attr.label)
                    elif getattr(attr, "dropdown", False):
                        result_repr = display_for_dropdown(result, name, value, empty_value_display)
                    elif getattr(attr, "header", False):
                        result_repr = display_for_header(value, empty_value_display)
                    else:
                        boolean = getattr(attr, "boolean", False)
                        result_repr = boolean_icon(value) if boolean else display_for_value(value, empty_value_display)
                    if isinstance(value, datetime.date | datetime.time):
                        row_classes.append("nowrap")
                else:
                    if isinstance(f.remote_field, models.ManyToOneRel):
                        field_val = getattr(result, f.name)
                        result_repr = empty_value_display if field_val is None else field_val
                    else:
                        result_repr = field_display(value, f, empty_value_display)
                    if isinstance(f, models.DateField | models.TimeField | models.ForeignKey):
                        row_classes.append("nowrap")
            if tag is not None:
                try:
                    url = link(result)
                except NoReverseMatch:
                    inner = conditional_escape(result_repr)
                else:
                    popup = format_html(' data-popup-opener="{}"', result.serializable_value(link_attr))
                    inner = format_html(
                        '<a href="{}" class="{}" {}>{}</a>',
                        url,
                        link_classes,
                        popup if cl.is_popup else "",
                        result_repr,
                    )
                classes = " ".join(row_classes)
                yield mark_safe(f'<{tag} class="{classes}" data-label="{label}">{inner}</{tag}>')  # noqa: S308
            else:
                if hide:
                    row_classes.append("!hidden")
                classes = " ".join(row_classes)
                yield mark_safe(f'<td class="{classes}" data-label="{label}">{conditional_escape(result_repr)}</td>')  # noqa: S308

    return cells
