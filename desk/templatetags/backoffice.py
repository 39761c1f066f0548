"""Template tags for the admin index's daily panel (docs/admin.md)."""

from django import template

from desk.dashboard import daily_panel as _daily_panel
from desk.dashboard import hours_text

register = template.Library()


@register.simple_tag(takes_context=True)
def daily_panel(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return _daily_panel(request.user)


register.filter("hours_text", hours_text)  # a duration in hours as "12 min", "3.5 h", "2 d"
