from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from returns.fabric import errors, schema  # noqa: F401 - the OpenAPI auth extension registers itself

        errors.register()
