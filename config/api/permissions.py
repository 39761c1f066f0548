"""Permission classes for the back-office API: Django permissions, named in the refusal."""

from rest_framework.permissions import BasePermission


class EmployeePermission(BasePermission):
    """The view declares ``required_permissions = {"GET": "orders.view_order", "POST": ...}``.

    A method missing from the map needs no extra permission beyond authentication.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        perm = getattr(view, "required_permissions", {}).get(request.method)
        if perm is None and request.method == "HEAD":
            perm = getattr(view, "required_permissions", {}).get("GET")
        if perm and not request.user.has_perm(perm):
            self.message = f"This action needs the permission {perm}"
            return False
        return True
