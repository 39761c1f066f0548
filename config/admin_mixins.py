"""Admin plumbing shared by every app: FSM transition buttons that go through the services."""

from __future__ import annotations

import typing
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django_fsm.admin import FSMAdminMixin
from simple_history import admin as history_admin

from config.counting import EstimatedCountPaginator
from config.errors import DomainError
from config.idempotency import AdminFormKeyReused, admin_form_once


class ServiceFSMAdminMixin(FSMAdminMixin):
    """django-fsm-2's transition buttons and forms, but applied by a service function.

    Subclasses implement ``apply_transition(request, obj, transition_name, form_data)`` and call
    the app's service there (one write path, DESIGN rule 1). Domain errors become admin messages.
    """

    # Relations the change page shows (read-only fields, the money summary): joined to the object's one query.
    object_select_related: tuple[str, ...] = ()

    def apply_transition(self, request, obj, transition_name: str, form_data: dict[str, typing.Any]):
        raise NotImplementedError

    def get_object(self, request, object_id, from_field=None):
        """The object, read once per page: django-fsm-2's ``change_view`` reads it for the transition buttons
        and Django's reads it again for the form. Only a GET shares it; a POST's form changes the instance it
        is given, so each reader of a POST gets its own."""
        safe = request.method in ("GET", "HEAD")
        key = (self.model, str(object_id), from_field)
        cache = request.__dict__.setdefault("_admin_objects", {}) if safe else {}
        if key not in cache:
            request._admin_reading_object = True
            try:
                cache[key] = super().get_object(request, object_id, from_field)
            finally:
                request._admin_reading_object = False
        return cache[key]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.object_select_related and getattr(request, "_admin_reading_object", False):
            queryset = queryset.select_related(*self.object_select_related)
        return queryset

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:  # noqa: D401
        try:
            result = self.apply_transition(request, obj, transition_name, dict(kwargs or {}))
        except DomainError as err:
            self.message_user(request, f"{transition_name}: {err.message}", level=messages.ERROR)
            return False
        message = result if isinstance(result, str) else f"{self.get_fsm_label_by_name(obj, transition_name)}: done."
        self.message_user(request, message, level=messages.SUCCESS)
        return True

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The transition form, for those who may change the model: django-fsm-2 checks only the transition's
        own permission, so a transition without one would be open to any staff member."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def get_fsm_label_by_name(self, obj, transition_name: str) -> str:
        try:
            return self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name))
        except (AttributeError, TypeError, ValueError):
            return transition_name


class GrowingTableAdmin:
    """The changelist of a table that grows with the business (orders, issues, refunds, notifications, webhook
    events...): every page costs the same on the millionth row as on the first (issue 8).

    - No ``COUNT(*)`` over the matching rows: an exact count up to 1,000, the planner's estimate above
      (``EstimatedCountPaginator``), and no second count of the whole table (``show_full_result_count``).
    - No "Show counts": Django's facets add, for every filter, an aggregate over every row the changelist
      matches, on every page viewed with them (``?_facets``), and keep that link on every page after.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class LeanChangelistMixin:
    """The changelist's per-row checkbox as one ``format_html``: Django renders it through the form widget's
    template for every row, which was the largest single cost of a 50-row changelist page (issue 8). The
    markup is the same, byte for byte (tests/admin/test_lean_changelist.py)."""

    def action_checkbox(self, obj):
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


class SimpleHistoryAdmin(LeanChangelistMixin, history_admin.SimpleHistoryAdmin):
    """simple-history's admin, with its version pages read-only.

    ``SIMPLE_HISTORY_REVERT_DISABLED`` only hides the Revert button: simple-history still saves a POST to a
    version page (``<pk>/history/<version>/``) and checks only the *view* permission, so anyone who may read a
    row could rewrite it with forged or old values, bypassing the services (and the workflow, DESIGN rule 4).
    A version page here is for reading; every write goes through the change form, its actions and transitions.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows rows and never edits, adds or deletes them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OnceForm(forms.Form):
    """A money form of the admin (refunds, returns): it carries a one-time key, so sending it twice records
    the money once (``submit_once``)."""

    form_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "This form has no key: reload the page and send it again."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_key"].initial = uuid.uuid4().hex


def submit_once(request, form: OnceForm, write) -> HttpResponseRedirect | None:
    """Run ``write()`` (the service call, returning ``(redirect_url, success_message)``) once per form key.

    A form sent again with the same values redirects to the first answer with a warning and writes nothing;
    the same key with other values is a form error. Domain errors propagate to the view, which shows them
    on the form (nothing was written, and the key is free again). Returns ``None`` when the form got an error.
    """
    values = {name: getattr(value, "pk", value) for name, value in form.cleaned_data.items() if name != "form_key"}
    try:
        url, message, replayed = admin_form_once(request, key=form.cleaned_data["form_key"], values=values, write=write)
    except AdminFormKeyReused:
        form.add_error(None, "This form was already sent with other values: reload the page to record another.")
        return None
    if replayed:
        messages.warning(request, f"Already recorded; the form was sent twice and nothing more was done. {message}")
    else:
        messages.success(request, message)
    return HttpResponseRedirect(url)


class DistinctValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter for a plain column (one link per value in the table), without reading every row.

    ``AllValuesFieldListFilter`` asks for ``SELECT DISTINCT col``, which reads the whole table or index on
    every changelist page: 24 ms over 200,000 orders, growing with them (issue 8). This one walks the column's
    index from one value to the next (a recursive ``MIN(col) WHERE col > previous``: one index probe per
    distinct value), so it costs the number of values, not of rows. It needs an index that starts with the
    column, and lists the values of the whole table: use it only where the admin's queryset is not narrowed.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        if field_path != field.name or field.model is not model:
            raise ValueError("DistinctValuesFilter takes a column of the admin's own model")
        connection = connections[router.db_for_read(model)]
        qn = connection.ops.quote_name
        table, column = qn(model._meta.db_table), qn(field.column)
        sql = (
            f"WITH RECURSIVE walk(value) AS (SELECT MIN({column}) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > walk.value) FROM walk "
            "WHERE walk.value IS NOT NULL) SELECT value FROM walk WHERE value IS NOT NULL"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            values = [field.to_python(row[0]) for row in cursor.fetchall()]
        if field.null and model._default_manager.filter(**{f"{field.name}__isnull": True}).exists():
            values.append(None)
        self.lookup_choices = values
