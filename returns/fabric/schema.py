"""OpenAPI: the ``x-api-key`` security scheme of the fabric API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class FabricAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "returns.fabric.auth.FabricAPIKeyAuthentication"
    name = "fabricApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A fabric API key (`manage.py create_api_key`), bound to one account.",
        }
