"""Employees in the admin: Django's user admin, except that an employee is deactivated, never deleted.

Deleting a user sets ``history_user`` to NULL on every history row they wrote (the audit trail would stop
naming who did what) and cascades to their appeasement limit and notifications without a change reason. Untick
"active" instead: the login stops working and the history keeps the name.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class EmployeeAdmin(UserAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False
