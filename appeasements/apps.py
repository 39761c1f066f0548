from django.apps import AppConfig


class AppeasementsConfig(AppConfig):
    name = "appeasements"
    verbose_name = "Appeasements"
