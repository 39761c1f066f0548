"""The admin site: django-unfold's, with the app list remembered per set of permissions.

Every admin page asks for the list of apps and models the viewer may see (the sidebar's "All applications", the
index). Django builds it anew each time: for each of the 26 registered models it asks the model admin for the
module permission and the four model permissions, each through every authentication backend, and reverses two
URLs: about 3 ms of every page. What it shows depends only on the viewer and their permissions (no project admin
decides on anything else without an object; tests/admin/test_admin_site.py checks the list against Django's), so
it is built once per viewer and set of permissions and copied out on each request. Registering or unregistering a
model admin forgets every list.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig
from django.utils.functional import SimpleLazyObject
from unfold.sites import UnfoldAdminSite

APP_LISTS_KEPT = 512  # viewers x kinds of page; past it the oldest list goes


class DeskAdminSite(UnfoldAdminSite):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._app_lists: dict = {}

    def register(self, *args, **kwargs) -> None:
        self._app_lists.clear()
        super().register(*args, **kwargs)

    def unregister(self, *args, **kwargs) -> None:
        self._app_lists.clear()
        super().unregister(*args, **kwargs)

    def get_sidebar_list(self, request):
        """Unfold's sidebar items, built when a template first reads them: a sidebar served from memory
        (desk.sidebar_cache) never does."""
        return SimpleLazyObject(lambda: super(DeskAdminSite, self).get_sidebar_list(request))

    def get_app_list(self, request, app_label=None):
        user = request.user
        key = (
            user.pk,
            user.is_active,
            user.is_staff,
            user.is_superuser,
            getattr(user, "acting_via", None) is not None,
            frozenset(user.get_all_permissions()),
            request.method,  # an inline hides itself from a POST (desk.admin): kept apart, to be safe
            app_label,
        )
        built = self._app_lists.get(key)
        if built is None:
            built = super().get_app_list(request, app_label)
            if len(self._app_lists) >= APP_LISTS_KEPT:
                self._app_lists.pop(next(iter(self._app_lists), None), None)
            self._app_lists[key] = built
        # copies: a caller may sort or mark what it gets without changing what the next request sees
        return [{**app, "models": [dict(model) for model in app["models"]]} for app in built]


class DeskAdminConfig(AdminConfig):
    """django.contrib.admin with ``DeskAdminSite`` as ``admin.site`` (settings.INSTALLED_APPS)."""

    default_site = "config.admin_site.DeskAdminSite"
