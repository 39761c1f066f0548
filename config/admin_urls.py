"""The address of an object's admin page for each row of a list, reversed once per list rather than once per row."""

from __future__ import annotations

from django.urls import get_script_prefix, get_urlconf, reverse

_ADDRESSES: dict = {}  # (view name, admin site, script prefix, URLconf) -> the address before and after the id
_ID_MARK = 918273645546372819  # an id no address contains by chance


def change_url(viewname: str, pk, current_app: str | None = None) -> str:
    """``reverse(viewname, args=[pk], current_app=current_app)``, the same address: for an integer id, the address
    is reversed once per view name, admin site, script prefix and URLconf and the id put in its place. A list
    linking each row to an object's page reversed it for every row (``config.lean_changelist``'s change links and
    the project's columns that link elsewhere)."""
    if type(pk) is not int:
        return reverse(viewname, args=[pk], current_app=current_app)
    key = (viewname, current_app, get_script_prefix(), get_urlconf())
    parts = _ADDRESSES.get(key)
    if parts is None:
        marked = reverse(viewname, args=[_ID_MARK], current_app=current_app)
        parts = _ADDRESSES[key] = tuple(marked.split(str(_ID_MARK))) if marked.count(str(_ID_MARK)) == 1 else ()
    if not parts:
        return reverse(viewname, args=[pk], current_app=current_app)
    return f"{parts[0]}{pk}{parts[1]}"
