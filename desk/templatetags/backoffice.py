"""Template tags for the admin index's daily panel (docs/admin.md) and the issue workspace's fieldset."""

from django import template
from django.utils.safestring import mark_safe

from desk.dashboard import daily_panel as _daily_panel
from desk.dashboard import hours_text
from desk.fieldset import FIELDSET_TEMPLATE, render_fieldset

register = template.Library()


@register.simple_tag(takes_context=True)
def daily_panel(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return _daily_panel(request.user)


register.filter("hours_text", hours_text)  # a duration in hours as "12 min", "3.5 h", "2 d"


@register.simple_tag(takes_context=True)
def desk_fieldset(context):
    """Unfold's ``admin/includes/fieldset.html`` for the context's ``fieldset``, rendered in Python when it is a
    plain one (desk.fieldset), else by the template."""
    html = render_fieldset(context["fieldset"], context)
    if html is None:
        html = context.template.engine.get_template(FIELDSET_TEMPLATE).render(context)
    return mark_safe(html)  # noqa: S308 - the templates' markup, every value escaped as they escape it
