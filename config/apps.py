from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Back office"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from config.history import record_via

        pre_create_historical_record.connect(record_via, dispatch_uid="config.history.record_via")
