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
