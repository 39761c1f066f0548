"""Template tags of the project's admin pages (config.admin_mixins): django-unfold's changelist table rendered in
Python (config.lean_changelist), the same HTML as its template."""

from django import template
from django.utils.safestring import mark_safe

from config.lean_changelist import ROWS_TEMPLATE, render_results, result_list

register = template.Library()


@register.simple_tag(takes_context=True)
def lean_result_list(context, cl):
    """Unfold's ``{% unfold_result_list cl %}``: its context (``result_list``, each row's cells worked out as Unfold
    does, with what every row shares worked out once), its template where the table is not a plain one, else the
    same HTML rendered in Python."""
    rows = context.new(result_list(context, cl))
    csrf_token = context.get("csrf_token")  # as Django's inclusion tags pass it on
    if csrf_token is not None:
        rows["csrf_token"] = csrf_token
    engine = context.template.engine
    html = render_results(rows, engine)
    if html is None:
        opts = context["opts"]
        app_label, model_name = opts.app_label.lower(), opts.model_name
        html = engine.select_template(
            [
                f"admin/{app_label}/{model_name}/{ROWS_TEMPLATE}",
                f"admin/{app_label}/{ROWS_TEMPLATE}",
                f"admin/{ROWS_TEMPLATE}",
            ]
        ).render(rows)
    return mark_safe(html)  # noqa: S308 - the template's markup around Unfold's own escaped cells and headers
