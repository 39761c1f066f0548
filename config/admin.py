"""Employees in the admin (Django's user admin, except that an employee is deactivated, never deleted) and the
grants of service accounts.

Deleting a user sets ``history_user`` to NULL on every history row they wrote (the audit trail would stop
naming who did what) and cascades to their appeasement limit and notifications without a change reason. Untick
"active" instead: the login stops working and the history keeps the name.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from config.accounts import ACCOUNT_RE
from config.admin_history import ChangeReasonAdminMixin
from config.admin_mixins import ModelAdmin, SimpleHistoryAdmin
from config.models import ServiceAccount
from config.people import ACT_FOR_ROLES
from config.permissions import SERVICE_GROUP

User = get_user_model()

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class EmployeeAdmin(UserAdmin, ModelAdmin):
    """Django's user admin in django-unfold's dress (its forms style the password fields)."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Group)
class EmployeeGroupAdmin(GroupAdmin, ModelAdmin):
    """Django's group admin in django-unfold's dress."""


class ServiceAccountForm(forms.ModelForm):
    act_for = forms.MultipleChoiceField(
        choices=[(r, r + "s") for r in ACT_FOR_ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Whose names it may write under (updated_by, agentId, created_by). Managers only on purpose: "
        "even then it has an agent's powers only.",
    )
    accounts = forms.CharField(
        required=False,
        help_text="24-character account ids, comma-separated: the webhook subscriptions it may create and manage.",
    )

    class Meta:
        model = ServiceAccount
        fields = ("user", "act_for", "accounts")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:  # the add form; a grant's user is read-only afterwards
            self.fields["user"].queryset = User.objects.filter(groups__name=SERVICE_GROUP, service_grant__isnull=True)
        if self.instance.pk:
            self.initial["accounts"] = ", ".join(self.instance.accounts)

    def clean_act_for(self):
        return sorted(self.cleaned_data["act_for"])

    def clean_accounts(self):
        accounts = sorted({a.strip() for a in self.cleaned_data["accounts"].split(",") if a.strip()})
        bad = [a for a in accounts if not ACCOUNT_RE.match(a)]
        if bad:
            raise forms.ValidationError(f"Not 24-character account ids: {', '.join(bad)}")
        return accounts


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ChangeReasonAdminMixin, SimpleHistoryAdmin):
    """Service accounts' grants: administrators only (no group holds these permissions); every change is history."""

    form = ServiceAccountForm
    list_display = ("user", "act_for", "accounts")
    list_select_related = ("user",)
    search_fields = ("=user__username",)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # narrow the grants instead: the row keeps its history
