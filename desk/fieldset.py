"""django-unfold's (0.91) fieldset of a change form, rendered in Python: the same HTML, byte for byte, as its
templates (``admin/includes/fieldset.html`` and the row, field, read-only value and help text templates it includes
for every line and field), at a fraction of their cost (issue 23: the issue workspace's server time).

The templates include three or four small templates per field, evaluate a read-only field's value up to three
times (``field.contents``), render every editable field's empty error list through a template twice, and look up
attributes a field does not have (each a ``dir()`` of the object): about 10 ms of the issue workspace's 23 fields.
Here each field's value is read once and the markup is joined from the templates' own text; the widgets, labels and
error lists are still rendered by Django, and the class lists are built as Unfold's tags build them (the same
classes, in the order its sets give).

Only a plain fieldset is rendered here: one with a name, a description or collapsing, a stacked one (in a tab),
conditional fields (``conditional_fields``), Unfold's outlined read-only values, a file field or a model admin
without ``compressed_fields`` renders through Unfold's templates, as before. tests/admin/test_fast_fieldset.py
compares the two renderings.
"""

from __future__ import annotations

from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from unfold.fields import UnfoldAdminReadonlyField

FIELDSET_TEMPLATE = "admin/includes/fieldset.html"

COMPRESSED_LABEL_BOX = (
    "lg:min-w-56 lg:w-56 lg:h-[38px] lg:flex lg:items-center lg:self-start lg:leading-[38px] lg:*:m-0"
)


def fieldset_rows_classes(stacked) -> str:
    """Unfold's ``fieldset_rows_classes`` (its class list, in the order its set gives)."""
    classes = ["form-rows", "aligned"]
    if not stacked:
        classes.extend(["border", "border-base-200", "rounded-default", "shadow-xs", "dark:border-base-800"])
    return " ".join(set(classes))


def fieldset_row_classes(line) -> str:
    """Unfold's ``fieldset_row_classes`` for a line of the model's own form (no inline formset)."""
    classes = ["form-row", "field-row", "group/row"]
    if len(line.fields) > 1:
        classes.extend(["grid", f"lg:grid-cols-{len(line.fields)}"])
    if not line.has_visible_field:
        classes.append("hidden")
    return " ".join(set(classes))


def fieldset_line_classes(name, has_errors: bool) -> str:
    """Unfold's ``fieldset_line_classes`` for a model admin with ``compressed_fields``."""
    classes = ["field-line", "flex", "flex-col", "grow", "group", "group/line", "px-3", "py-2.5"]
    if name:
        classes.append(f"field-{name}")
    if has_errors:
        classes.append("errors")
    classes.extend(
        [
            "border-b",
            "border-base-200",
            "border-dashed",
            "min-h-[59px]",
            "group-[.last]/row:border-b-0",
            "lg:border-l",
            "lg:flex-row",
            "lg:items-center",
            "dark:border-base-800",
            "lg:first:border-l-0",
        ]
    )
    return " ".join(set(classes))


def _help(text) -> str:
    """``unfold/helpers/help_text.html`` for a help text (never escaped: Unfold marks it safe)."""
    return f'\n    <div class="leading-relaxed mt-2 text-xs">\n        {text}\n    </div>\n\n'


ERRORS_BOX = '<div class="mt-2 text-red-600 text-xs dark:text-red-500">'


def _errors(errors) -> str:
    return f"\n        {ERRORS_BOX}\n            {errors}\n        </div>\n    " if errors else ""


def _readonly_value(field, context) -> str | None:
    """``unfold/helpers/field_readonly_value.html`` (not outlined); None for a file field (its own template)."""
    if field.is_file:
        return None
    contents = field.contents()
    if contents:
        value = "-" if contents == "None" else render_value_in_context(contents, context)
    else:
        value = "-"
    width = "max-w-4xl" if field.is_json else "max-w-2xl"
    return f'\n    <div class="readonly break-words {width} *:rounded-default">{value}</div>\n\n'


def _field(field, context) -> str | None:
    """``unfold/helpers/fieldset_row_field.html`` with ``compressed_fields``, or the checkbox's row."""
    readonly = isinstance(field, UnfoldAdminReadonlyField)
    if readonly:
        value = _readonly_value(field, context)
        if value is None:
            return None
        body = f"\n        {value}\n    "
        help_text, errors = field.field["help_text"], ""
    else:
        bound = field.field
        errors = field.errors() if bound.errors else ""
        help_text = bound.help_text
        if field.is_checkbox:
            help_html = (
                f'\n                    <div class="lg:-mt-2 lg:ml-2">\n                        {_help(help_text)}\n'
                "                    </div>\n                "
                if help_text
                else ""
            )
            error_html = (
                f"\n                {ERRORS_BOX}\n                    {errors}\n                </div>\n            "
                if errors
                else ""
            )
            return (
                '\n    <div class="flex flex-col gap-2 py-2 lg:flex-row">\n'
                '        <div class="font-medium flex items-start -ml-2 min-w-32 w-32 lg:min-w-56 lg:w-56">\n'
                f"            {field.label_tag()}\n        </div>\n\n"
                '        <div class="grow">\n            <div class="flex flex-col lg:flex-row">\n'
                f"                {bound}\n\n                {help_html}\n            </div>\n\n"
                f"            {error_html}\n        </div>\n    </div>\n\n"
            )
        body = f"\n        {bound}\n    "
    help_html = f"\n        {_help(help_text)}\n    " if help_text else ""
    return (
        f'<div class="{COMPRESSED_LABEL_BOX}">\n    {field.label_tag()}\n</div>\n\n'
        f'<div class="grow relative">\n    {body}\n\n    {help_html}\n\n    {_errors(errors)}\n</div>\n'
    )


def _row(line, last: bool, context) -> str | None:
    """``unfold/helpers/fieldset_row.html`` without conditional fields."""
    parts = []
    for field in line:
        html = _field(field, context)
        if html is None:
            return None
        if isinstance(field, UnfoldAdminReadonlyField):
            name, has_errors = None, False  # Unfold looks for a ``name`` attribute: a read-only field's is a key
        else:
            name, has_errors = field.field.name, bool(field.field.errors)
        classes = conditional_escape(fieldset_line_classes(name, has_errors))
        parts.append(
            f'\n        \n            <div class="{classes}" >\n                \n'
            f"                    \n                        {html}\n                    \n"
            "                \n            </div>\n        \n    "
        )
    classes = conditional_escape(fieldset_row_classes(line))
    return f'\n\n<div class="{classes} {"last" if last else ""}">\n    {"".join(parts)}\n</div>\n'


def plain(fieldset, context) -> bool:
    """Whether ``render_fieldset`` renders this fieldset itself (else Unfold's templates do)."""
    adminform = context.get("adminform")
    return not (
        fieldset.name
        or fieldset.description
        or fieldset.is_collapsible
        or context.get("stacked") == 1
        or context.get("has_conditional_display")
        or context.get("inline_admin_formset")
        or context.get("outline")
        or context.get("value")
        or adminform is None
        or not getattr(adminform.model_admin, "compressed_fields", False)
    )


def render_fieldset(fieldset, context) -> str | None:
    """``admin/includes/fieldset.html`` for ``fieldset``, or None when it is not a plain one (``plain``)."""
    if not plain(fieldset, context):
        return None
    lines = list(fieldset)
    rows = []
    for i, line in enumerate(lines):
        row = _row(line, i == len(lines) - 1, context)
        if row is None:
            return None
        rows.append(f"\n            {row}\n        ")
    classes = f" {conditional_escape(fieldset.classes)}" if fieldset.classes else ""
    shown = "x-show=\"activeTab == 'general'\"" if context.get("stacked") != 1 else ""
    return (
        f'\n\n<fieldset class="module relative {classes}" {shown}>\n    \n\n    \n\n    \n\n    \n\n'
        f'    <div class="{conditional_escape(fieldset_rows_classes(context.get("stacked")))}">\n'
        f"        {''.join(rows)}\n    </div>\n\n    \n</fieldset>\n"
    )
