"""Template tags for the admin index's daily panel (docs/admin.md) and the issue workspace's fieldset."""

from django import template
from django.utils.safestring import mark_safe

from config import lean_filter
from desk import sidebar_cache
from desk.dashboard import daily_panel as _daily_panel
from desk.dashboard import hours_text
from desk.fieldset import FIELDSET_TEMPLATE, render_fieldset
from desk.panel_html import order_panel_html, timeline_items_html

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


@register.simple_tag(takes_context=True)
def desk_nav_sidebar(context):
    """Unfold's sidebar (``admin/nav_sidebar.html``), rendered once per viewer, page and badge counts
    (desk.sidebar_cache)."""
    return mark_safe(sidebar_cache.render(context))  # noqa: S308 - Unfold's template's own output


@register.simple_tag(takes_context=True)
def desk_list_filter(context):
    """Unfold's list filter (``admin/filter.html``), rendered in Python (config.lean_filter)."""
    return mark_safe(lean_filter.render_filter(context))  # noqa: S308 - escaped as the template escapes


@register.simple_tag(takes_context=True)
def order_panel(context):
    """``admin/issues/orderissue/order_panel.html`` for the page's ``workspace`` and ``money``, in Python."""
    html = order_panel_html(context["workspace"], context.get("money"), context)
    return mark_safe(html)  # noqa: S308 - the template's markup, every value escaped as it escapes it


@register.simple_tag(takes_context=True)
def timeline_items(context):
    """``admin/issues/orderissue/timeline_items.html`` for the page's ``timeline``, in Python."""
    return mark_safe(timeline_items_html(context["timeline"], context))  # noqa: S308 - as order_panel
