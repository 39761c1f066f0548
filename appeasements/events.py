"""How appeasements appear in webhook events (registered in ``AppeasementsConfig.ready``): the ccagent shape."""

from __future__ import annotations

from webhooks.events import Described


def _appeasement(obj) -> Described:
    from appeasements.api.serializers import AppeasementOutput
    from appeasements.selectors import appeasement_queryset

    appeasement = appeasement_queryset().get(pk=obj.pk)
    order = appeasement.order
    return dict(AppeasementOutput(appeasement).data), order.account, order.order_id


def order_of_appeasement(appeasement_id: str):
    """The order an appeasement's approval request is about (``issues.approvals.order_finder``)."""
    from appeasements.models import Appeasement

    found = Appeasement.objects.select_related("order").filter(appeasement_id=appeasement_id).first()
    return found.order if found else None


DESCRIBERS = {"appeasements.Appeasement": _appeasement}
