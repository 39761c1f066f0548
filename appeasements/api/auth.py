"""``Authorization: Bearer <token>`` for the commerce-agent API: the employee's DRF API token."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "appeasements.api.auth.BearerTokenAuthentication"
    name = "ccagentBearer"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The employee's API token (`manage.py create_employee`), sent as `Bearer <token>`.",
        }
