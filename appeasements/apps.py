from django.apps import AppConfig


class AppeasementsConfig(AppConfig):
    name = "appeasements"
    verbose_name = "Appeasements"

    def ready(self) -> None:
        from appeasements import errors
        from appeasements.api import auth  # noqa: F401 - the OpenAPI Bearer scheme registers itself

        errors.register()

        from appeasements.approvals import TARGET_TYPE
        from appeasements.services import appeasement_decided
        from issues import approvals
        from issues.models import ApprovalKind

        approvals.register(ApprovalKind.APPEASEMENT, appeasement_decided)

        from appeasements.events import DESCRIBERS, order_of_appeasement
        from webhooks import events

        approvals.register_order_finder(TARGET_TYPE, order_of_appeasement)
        events.register(DESCRIBERS)

        from appeasements.selectors import issue_timeline_lines
        from issues.selectors import register_timeline_source

        register_timeline_source(issue_timeline_lines)
