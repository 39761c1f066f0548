from django.apps import AppConfig


class AppeasementsConfig(AppConfig):
    name = "appeasements"
    verbose_name = "Appeasements"

    def ready(self) -> None:
        from appeasements import errors
        from appeasements.api import auth  # noqa: F401 - the OpenAPI Bearer scheme registers itself

        errors.register()
