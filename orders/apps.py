from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from orders.events import DESCRIBERS, knows_account, lock_order_stream
        from webhooks import events

        events.register(DESCRIBERS)
        events.register_account_source(knows_account)
        events.register_stream_lock(lock_order_stream)
