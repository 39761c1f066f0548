from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The top app: the admin as the support desk works in it (cross-app pages, the managers' dashboard, the
    index's daily panel) and the demo and scale seeders. It imports every domain app; none imports it."""

    name = "desk"
    verbose_name = "Support desk"

    def ready(self):
        from config.metrics import register_collector
        from desk import unfold_fixes
        from desk.metrics import BusinessCollector

        unfold_fixes.install()

        register_collector("desk.business", BusinessCollector())
