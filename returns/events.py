"""How returns appear in webhook events (registered in ``ReturnsConfig.ready``)."""

from __future__ import annotations

from webhooks.events import Described


def _return(obj) -> Described:
    from returns.api.serializers import ReturnOutput
    from returns.selectors import return_detail

    ret = return_detail(obj.pk)
    return dict(ReturnOutput(ret).data), ret.order.account, ret.order.order_id


def order_of_return(return_id: str):
    """The order a return's held refund request is about (``issues.approvals.order_finder``)."""
    from returns.models import Return

    found = Return.objects.select_related("order").filter(return_id=return_id).first()
    return found.order if found else None


def knows_account(account: str) -> bool:
    """A fabric API key names the account."""
    from returns.models import AccountAPIKey

    return AccountAPIKey.objects.filter(account=account).exists()


DESCRIBERS = {"returns.Return": _return}
