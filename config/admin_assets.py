"""The static files django-unfold links on every admin page (settings.UNFOLD: STYLES, SCRIPTS)."""

from django.templatetags.static import static


def styles(request) -> str:
    return static("config/backoffice.css")
