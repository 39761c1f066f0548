"""Every write to webhooks: emitting events (inside the caller's transaction), fanning them out,
delivering them, and managing subscriptions. Admin, API, tasks and commands call these.

The guarantee, step by step:

1. ``event_emit`` writes an :class:`OutboxEvent` in the caller's transaction (and, with the database
   task backend, the dispatch task row too: one per transaction, however many events it emits). Rolled back: no
   event. Committed: exactly one. A dispatch job lost (RQ: Redis down at commit) is made up for by the
   ``webhooks_dispatch`` loop.
2. ``outbox_dispatch`` turns undispatched events into :class:`Delivery` rows, one per matching active
   subscription, and marks them dispatched, in one transaction, in event order.
3. ``stream_deliver`` sends the deliveries of one (subscription, order) stream oldest first: a later
   event waits until the earlier one is delivered or finally failed. Each attempt claims the delivery
   with a lease, POSTs outside any transaction, then records the attempt. A worker that dies after the
   POST and before the record leaves the delivery pending; when its lease runs out ``deliveries_sweep``
   (the ``webhooks_dispatch`` command) enqueues it again, so it is delivered again, never lost.

Subscriptions belong to an account (a 24-character account id known to the system: ``account_known``) and an
owner. Managers (their own credential) see and change every subscription; anyone else, in practice a service
account, only those it owns (``subscriptions_visible_to``): any other is "not found", exactly like an unknown id.
A service account subscribes only to the accounts it was granted (``config.models.ServiceAccount.accounts``).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tasks import task, task_backends
from standardwebhooks.webhooks import Webhook

from config.accounts import ACCOUNT_RE
from config.api.renderers import MoneyJSONRenderer
from config.errors import NotFound, PermissionDenied, ValidationFailed
from config.history import save_with_history, stamp
from config.people import is_manager, is_service, service_grant
from config.permissions import MANAGER_GROUP, SERVICE_GROUP
from config.tasks import enqueue_after_commit, enqueue_once_per_transaction
from webhooks import transport
from webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    Subscription,
    new_secret,
)
from webhooks.signals import subscription_disabled

logger = logging.getLogger(__name__)

NOTIFY_KIND = "webhook_disabled"
SUBSCRIBABLE = [t for t in EventType.values if t != EventType.PING]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _render(envelope: dict[str, Any]) -> str:
    return MoneyJSONRenderer().render(envelope).decode("utf-8")


# --------------------------------------------------------------------------- emitting (in the caller's transaction)


def _order_stream_lock(order_id: str) -> None:
    """Serialize the events of one order until commit, so their sequence numbers (primary keys) follow
    commit order and a dispatcher never sees event N+1 of an order before event N.

    It locks the order row, the lock the services already take for money and status moves. (Not an
    advisory lock: PostgreSQL checks Django's deferred foreign keys at commit, taking a KEY SHARE lock
    on the order then, after the advisory lock, which deadlocks with a refund holding the row and
    waiting for the advisory lock.) On SQLite a plain read: writers are serialized anyway. Orders registers the
    lock (``webhooks.events.register_stream_lock``, in ``OrdersConfig.ready``).
    """
    from webhooks.events import stream_lock

    stream_lock(order_id)


def event_emit(
    event_type: str,
    obj=None,
    *,
    data: dict[str, Any] | None = None,
    account: str | None = None,
    order_id: str | None = None,
    extra: dict[str, Any] | None = None,
    stream_locked: bool = False,
) -> OutboxEvent:
    """Record that ``event_type`` happened to ``obj`` (or to explicit ``data``/``account``/``order_id``).

    Call it inside the service's transaction, after the write: the event commits or rolls back with it.
    ``data`` is the object's REST representation as the write left it, merged with ``extra``
    (``from``/``to`` for a status change). ``stream_locked``: the caller already holds the order's row lock in
    this transaction (a money write takes it first), so it is not taken again.
    """
    if event_type not in EventType.values:
        raise ValueError(f"Unknown webhook event type {event_type}")
    if obj is not None:
        from webhooks.events import describe

        data, account, order_id = describe(obj)
    data = {**(data or {}), **(extra or {})}
    with transaction.atomic(savepoint=False):  # inside the caller's transaction: no savepoint of its own
        if order_id and not stream_locked:
            _order_stream_lock(order_id)
        event = OutboxEvent(type=event_type, account=account or "", order_key=order_id or "")
        event.body = _render(
            {
                "id": event.event_id,
                "type": event_type,
                "created_at": _iso(event.created_at),
                "account": event.account,
                "data": data,
            }
        )
        event.save()
        enqueue_once_per_transaction(dispatch_outbox)  # one dispatch job per transaction, however many events
    return event


# --------------------------------------------------------------------------- fan-out


def outbox_dispatch(*, batch: int = 500) -> int:
    """Fan undispatched events out to the matching active subscriptions. Returns how many events."""
    total = 0
    while True:
        with transaction.atomic():
            # FOR UPDATE (no SKIP LOCKED): two dispatchers take turns, so deliveries of one order are created
            # in event order.
            events = list(
                OutboxEvent.objects.select_for_update().filter(dispatched_at__isnull=True).order_by("id")[:batch]
            )
            if not events:
                return total
            now = timezone.now()
            subscriptions = receiving_subscriptions()
            rows = [
                Delivery(
                    event=event,
                    subscription=sub,
                    stream_key=event.order_key or event.event_id,
                    seq=event.pk,
                    next_attempt_at=now,
                )
                for event in events
                for sub in subscriptions
                if sub.account == event.account and sub.wants(event.type)
            ]
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
            for sub_pk, stream_key in dict.fromkeys((r.subscription_id, r.stream_key) for r in rows):
                _enqueue_stream(sub_pk, stream_key)
        total += len(events)
        if len(events) < batch:
            return total


def receiving_subscriptions() -> list[Subscription]:
    """The active subscriptions events fan out to: a service account's only for the accounts it is still granted
    (revoking a grant stops its events at once; the subscription stays, for a manager to hand over or delete)."""
    from config.models import ServiceAccount

    subscriptions = list(Subscription.objects.filter(active=True))
    owners = {s.owner_id for s in subscriptions if s.owner_id is not None}
    if not owners:
        return subscriptions
    services = set(
        get_user_model().objects.filter(pk__in=owners, groups__name=SERVICE_GROUP).values_list("pk", flat=True)
    )
    grants = {g.user_id: set(g.accounts) for g in ServiceAccount.objects.filter(user_id__in=services)}
    return [s for s in subscriptions if s.owner_id not in services or s.account in grants.get(s.owner_id, ())]


def _enqueue_stream(sub_pk: int, stream_key: str, *, at: datetime | None = None) -> None:
    if at is not None:
        if not task_backends[deliver_stream.backend].supports_defer:
            return  # deliveries_sweep picks it up when due
        enqueue_after_commit(deliver_stream.using(run_after=at), sub_pk, stream_key)
    else:
        enqueue_once_per_transaction(deliver_stream, sub_pk, stream_key)


def deliveries_sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue every stream whose head is due and not held by a live worker (retries, crashed workers,
    lost task messages). Returns how many streams were enqueued."""
    now = now or timezone.now()
    due = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(subscription__active=True) | Q(event__type=EventType.PING))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("seq")
        .values_list("subscription_id", "stream_key")[:limit]
    )
    streams = list(dict.fromkeys(due))
    with transaction.atomic():
        for sub_pk, stream_key in streams:
            _enqueue_stream(sub_pk, stream_key)
    return len(streams)


# --------------------------------------------------------------------------- delivery


def signature_headers(*, event_id: str, body: str, secrets: list[str], when: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one ``v1,`` signature per secret (old and new during a rotation)."""
    signatures = [Webhook(secret).sign(event_id, when, body) for secret in secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
        "User-Agent": "order-backoffice-webhooks/1",
    }


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then a random 50-100% of it."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    ceiling = settings.WEBHOOKS_RETRY_MAX_SECONDS
    delay = min(ceiling, base * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class StreamResult:
    sent: int
    state: str  # "empty", "waiting", "busy", "paused", "more"


def stream_deliver(*, subscription_pk: int, stream_key: str, max_items: int = 200) -> StreamResult:
    """Send the stream's pending deliveries, oldest first, until one has to wait (retry) or none is left."""
    sent = 0
    for _ in range(max_items):
        now = timezone.now()
        head = (
            Delivery.objects.filter(
                subscription_id=subscription_pk, stream_key=stream_key, status=DeliveryStatus.PENDING
            )
            .select_related("subscription", "event")
            .order_by("seq")
            .first()
        )
        if head is None:
            return StreamResult(sent, "empty")
        if not head.subscription.active and head.event.type != EventType.PING:
            return StreamResult(sent, "paused")  # test events go out anyway: they check a receiver before re-activating
        if head.next_attempt_at > now:
            return StreamResult(sent, "waiting")  # whoever recorded the failure scheduled the retry
        outcome = delivery_attempt(delivery_pk=head.pk, now=now)
        if outcome not in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
            return StreamResult(sent, outcome)
        sent += 1
    with transaction.atomic():
        _enqueue_stream(subscription_pk, stream_key)
    return StreamResult(sent, "more")


def _claim(delivery_pk: int, now: datetime) -> bool:
    lease = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    return bool(
        Delivery.objects.filter(pk=delivery_pk, status=DeliveryStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease)
    )


def delivery_attempt(*, delivery_pk: int, now: datetime | None = None) -> str:
    """One attempt: claim, POST, record. Returns the delivery's status, or "busy"/"blocked"."""
    now = now or timezone.now()
    if not _claim(delivery_pk, now):
        return "busy"
    delivery = Delivery.objects.select_related("event", "subscription").get(pk=delivery_pk)
    earlier = Delivery.objects.filter(
        subscription_id=delivery.subscription_id,
        stream_key=delivery.stream_key,
        seq__lt=delivery.seq,
        status=DeliveryStatus.PENDING,
    ).exists()
    if earlier:
        Delivery.objects.filter(pk=delivery_pk).update(locked_until=None)
        return "blocked"
    event, sub = delivery.event, delivery.subscription
    headers = signature_headers(event_id=event.event_id, body=event.body, secrets=sub.signing_secrets(now), when=now)
    answer = transport.post(sub.url, body=event.body.encode("utf-8"), headers=headers)
    return delivery_record(delivery_pk=delivery_pk, answer=answer, attempted_at=now)


@transaction.atomic
def delivery_record(*, delivery_pk: int, answer: transport.Answer, attempted_at: datetime) -> str:
    """Log the attempt and move the delivery on: delivered, retried later, or finally failed."""
    delivery = Delivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery_pk)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        attempted_at=attempted_at,
        status_code=answer.status_code,
        latency_ms=answer.latency_ms,
        response_excerpt=answer.excerpt[: settings.WEBHOOKS_RESPONSE_EXCERPT],
        error=answer.error[:300],
        succeeded=answer.ok,
    )
    if delivery.status != DeliveryStatus.PENDING:
        return delivery.status  # recorded already (a redelivery after an expired lease)
    now = timezone.now()
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or attempted_at
    delivery.last_attempt_at = attempted_at
    delivery.last_status_code = answer.status_code
    delivery.last_error = answer.error[:300]
    delivery.locked_until = None
    # The subscription row is locked only when its failure run changes, so workers delivering to one
    # subscription do not queue behind each other.
    if answer.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        if delivery.subscription.consecutive_failures:
            _end_failure_run(Subscription.objects.select_for_update().get(pk=delivery.subscription_id))
    else:
        retry_at = now + retry_delay(delivery.attempts)
        window_end = delivery.first_attempt_at + timedelta(hours=settings.WEBHOOKS_RETRY_WINDOW_HOURS)
        if retry_at > window_end:
            delivery.status = DeliveryStatus.FAILED
            _count_failure(Subscription.objects.select_for_update().get(pk=delivery.subscription_id))
        else:
            delivery.next_attempt_at = retry_at
            _enqueue_stream(delivery.subscription_id, delivery.stream_key, at=retry_at)
    delivery.save()
    return delivery.status


def _end_failure_run(sub: Subscription) -> None:
    """A delivery succeeded: the run of failures is over (a history row, like every subscription change)."""
    sub.consecutive_failures = 0
    sub._change_reason = "Delivered: failure run ended"
    sub.save(update_fields=["consecutive_failures", "updated_at"])


def _count_failure(sub: Subscription) -> None:
    sub.consecutive_failures += 1
    fields = ["consecutive_failures", "updated_at"]
    if sub.active and sub.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
        sub.active = False
        sub.disabled_at = timezone.now()
        sub.disabled_reason = f"{sub.consecutive_failures} deliveries in a row failed"
        fields += ["active", "disabled_at", "disabled_reason"]
        subscription_disabled.send(
            sender=Subscription,
            subscription=sub,
            message=f"Webhook subscription {sub.subscription_id} ({sub.url}) was disabled: {sub.disabled_reason}. "
            "Fix the receiver, then re-activate it; its pending events are kept.",
        )
    sub._change_reason = "Delivery failed" if "active" not in fields else "Disabled after failures"
    sub.save(update_fields=fields)


# --------------------------------------------------------------------------- subscription fields


def clean_event_types(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationFailed.single("event_types", "Must be a list of event types")
    unknown = [v for v in value if v not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed.single("event_types", f"Unknown event types: {', '.join(map(str, unknown))}")
    return list(dict.fromkeys(value))


def clean_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.WEBHOOKS_ALLOW_INSECURE and scheme == "http"):
        raise ValidationFailed.single("url", "Must be an https URL")
    if not parts.hostname:
        raise ValidationFailed.single("url", "Must name a host")
    import ipaddress

    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None  # a name: resolved and checked at every delivery
    # the same rule as at delivery (6to4, NAT64 and IPv4-mapped hosts are judged by the IPv4 address they carry)
    if literal is not None and not transport.address_allowed(
        str(literal), allow_loopback=settings.WEBHOOKS_ALLOW_INSECURE
    ):
        raise ValidationFailed.single("url", "Must not point to a private, loopback or link-local address")
    return url


# --------------------------------------------------------------------------- who manages which subscription


def account_known(account: str) -> bool:
    """An account the system knows: the default account, or one an order or a fabric API key names (indexed; the
    apps register what they know, ``webhooks.events.register_account_source``)."""
    from webhooks.events import account_known_by_an_app

    return account == settings.DEFAULT_ACCOUNT_ID or account_known_by_an_app(account)


def sees_all_subscriptions(actor) -> bool:
    """Managers with their own credential (and the system, ``None``) see and change every subscription."""
    return actor is None or is_manager(actor)


def subscriptions_visible_to(actor) -> QuerySet[Subscription]:
    """The subscriptions ``actor`` may see and change: every one for a manager, else only those it owns, of the
    accounts it is (still) granted."""
    rows = Subscription.objects.select_related("owner")
    if sees_all_subscriptions(actor):
        return rows
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "acting_via", None) is not None:
        return rows.none()
    return rows.filter(owner=actor, account__in=granted_accounts(actor))  # a revoked grant hides them too


def _may_manage(actor, sub: Subscription) -> bool:
    if sees_all_subscriptions(actor):
        return True
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "acting_via", None) is not None:
        return False
    return sub.owner_id is not None and sub.owner_id == actor.pk and sub.account in granted_accounts(actor)


def _not_found(subscription_id: str) -> NotFound:
    return NotFound("Webhook subscription not found", subscription_id=subscription_id)


def _check_visible(actor, sub: Subscription) -> None:
    """Someone else's subscription is answered exactly like an unknown one: its existence is not revealed."""
    if not _may_manage(actor, sub):
        raise _not_found(sub.subscription_id)


def granted_accounts(actor) -> list[str]:
    """The accounts a service account may subscribe to (none for anyone else who is not a manager)."""
    if not is_service(actor):
        return []
    return [a for a in service_grant(actor).accounts or [] if isinstance(a, str)]


def clean_account(account, *, actor=None) -> str:
    """A 24-character account id known to the system, that ``actor`` may subscribe to.

    Malformed: a validation error. Then, for anyone but a manager (``actor=None``: no grant check, the admin's
    form), an account not granted is refused (403) before it is looked up, so a service account never learns
    whether an account it was not granted exists. Last, an unknown account: a validation error.
    """
    if not account:
        raise ValidationFailed.single("account", "Required")
    if not isinstance(account, str) or not ACCOUNT_RE.match(account):
        raise ValidationFailed.single("account", "Must be a 24-character account id")
    if actor is not None and not sees_all_subscriptions(actor):
        granted = granted_accounts(actor)
        if account not in granted:
            raise PermissionDenied(
                f"{actor.get_username()} is not granted account {account}; it may manage: "
                f"{', '.join(granted) or 'no account'}",
                field="account",
            )
    if not account_known(account):
        raise ValidationFailed.single("account", f"Unknown account {account}: no order or fabric API key names it")
    return account


def owner_choices() -> QuerySet:
    """Who may own a subscription: active managers (and administrators) and active service accounts."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=[MANAGER_GROUP, SERVICE_GROUP]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def clean_owner(owner, *, account: str, actor=None):
    """The new owner of a subscription of ``account``: only a manager hands one over, to an active manager or to a
    service account granted ``account``. ``None``: nobody (only managers see it)."""
    if actor is not None and not sees_all_subscriptions(actor):
        raise PermissionDenied("Only a manager changes who owns a webhook subscription", field="owner")
    if owner is None:
        return None
    if not owner_choices().filter(pk=owner.pk).exists():
        raise ValidationFailed.single("owner", f"{owner.get_username()} is not an active manager or service account")
    if not is_manager(owner) and account not in granted_accounts(owner):
        granted = granted_accounts(owner)
        raise ValidationFailed.single(
            "owner",
            f"{owner.get_username()} is not granted account {account}; it may manage: "
            f"{', '.join(granted) or 'no account'}",
        )
    return owner


# --------------------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class SubscriptionCreated:
    subscription: Subscription
    secret: str  # shown once


_UNSET = object()


@transaction.atomic
def subscription_create(
    *,
    actor,
    url: str,
    account: str,
    event_types: list[str] | None = None,
    description: str = "",
    active: bool = True,
    owner=_UNSET,
) -> SubscriptionCreated:
    """A new subscription, owned by ``actor`` (a manager may name another ``owner``, or ``None``)."""
    account = clean_account(account, actor=actor)
    authenticated = actor if getattr(actor, "is_authenticated", False) else None
    owner = authenticated if owner is _UNSET else clean_owner(owner, account=account, actor=actor)
    sub = Subscription(
        url=clean_url(url),
        account=account,
        event_types=clean_event_types(event_types),
        description=description or "",
        active=active,
        created_by=authenticated,
        owner=owner,
    )
    save_with_history(sub, actor=actor, reason="Subscription created")
    return SubscriptionCreated(sub, sub.secret)


@transaction.atomic
def subscription_update(*, actor, subscription: Subscription, changes: dict[str, Any]) -> Subscription:
    """Change a subscription ``actor`` may manage (someone else's: not found). ``owner``: managers only."""
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _check_visible(actor, sub)
    if "url" in changes:
        sub.url = clean_url(changes["url"])
    if "event_types" in changes:
        sub.event_types = clean_event_types(changes["event_types"])
    if "description" in changes:
        sub.description = changes["description"] or ""
    account_changed = "account" in changes and changes["account"] != sub.account
    if account_changed:
        sub.account = clean_account(changes["account"], actor=actor)
    if "owner" in changes and changes["owner"] != sub.owner:
        sub.owner = clean_owner(changes["owner"], account=sub.account, actor=actor)
    elif account_changed and sub.owner_id is not None and not is_manager(sub.owner):
        # A subscription handed to a service account stays within the accounts it was granted.
        if sub.account not in granted_accounts(sub.owner):
            raise ValidationFailed.single(
                "account",
                f"Its owner {sub.owner.get_username()} is not granted account {sub.account}; "
                "hand the subscription to another owner first",
            )
    reactivated = False
    if "active" in changes and bool(changes["active"]) != sub.active:
        sub.active = bool(changes["active"])
        if sub.active:
            reactivated = True
            sub.consecutive_failures = 0
            sub.disabled_at = None
            sub.disabled_reason = ""
    save_with_history(sub, actor=actor, reason="Re-activated" if reactivated else "Subscription updated")
    if reactivated:
        # Its pending deliveries start again, from the oldest of each order.
        Delivery.objects.filter(subscription=sub, status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
        for stream_key in (
            Delivery.objects.filter(subscription=sub, status=DeliveryStatus.PENDING)
            .values_list("stream_key", flat=True)
            .distinct()
        ):
            _enqueue_stream(sub.pk, stream_key)
    return sub


@transaction.atomic
def subscription_rotate_secret(*, actor, subscription: Subscription, grace_hours: float | None = None) -> str:
    """A new secret (returned, shown once); the old one keeps signing beside it for the grace period."""
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _check_visible(actor, sub)
    grace = settings.WEBHOOKS_SECRET_GRACE_HOURS if grace_hours is None else grace_hours
    if grace < 0 or grace > 24 * 30:
        raise ValidationFailed.single("grace_hours", "Must be between 0 and 720")
    sub.previous_secret = sub.secret
    sub.previous_secret_expires_at = timezone.now() + timedelta(hours=grace)
    sub.secret = new_secret()
    save_with_history(sub, actor=actor, reason="Secret rotated")
    subscription.secret = sub.secret
    return sub.secret


@transaction.atomic
def subscription_delete(*, actor, subscription: Subscription) -> None:
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _check_visible(actor, sub)
    stamp(sub, actor=actor, reason="Subscription deleted")
    sub.delete()


def subscription_get(subscription_id: str, *, actor) -> Subscription:
    """The subscription, if ``actor`` may see it; someone else's is "not found", like an unknown id."""
    sub = subscriptions_visible_to(actor).filter(subscription_id=subscription_id).first()
    if sub is None:
        raise _not_found(subscription_id)
    return sub


@transaction.atomic
def subscription_send_test(*, actor, subscription: Subscription) -> Delivery:
    """A ``webhook.test`` event to this subscription only (whatever its event types or state of activity)."""
    _check_visible(actor, subscription)
    now = timezone.now()
    event = OutboxEvent(type=EventType.PING, account=subscription.account, dispatched_at=now)
    event.body = _render(
        {
            "id": event.event_id,
            "type": EventType.PING.value,
            "created_at": _iso(event.created_at),
            "account": event.account,
            "data": {
                "subscription_id": subscription.subscription_id,
                "message": "A test event",
                "sent_by": getattr(actor, "username", None),
            },
        }
    )
    event.save()
    delivery = Delivery.objects.create(
        event=event, subscription=subscription, stream_key=event.event_id, seq=event.pk, next_attempt_at=now
    )
    _enqueue_stream(subscription.pk, delivery.stream_key)
    return delivery


def outbox_prune(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete events older than ``older_than`` whose deliveries are all settled (delivered or failed),
    with their deliveries and attempt logs. Returns how many events."""
    cutoff = (now or timezone.now()) - older_than
    unsettled = Delivery.objects.filter(event=OuterRef("pk"), status=DeliveryStatus.PENDING)
    old = OutboxEvent.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False).exclude(Exists(unsettled))
    pks = list(old.values_list("pk", flat=True)[:10000])
    OutboxEvent.objects.filter(pk__in=pks).delete()
    return len(pks)


@transaction.atomic
def delivery_send_again(*, actor, delivery: Delivery) -> Delivery:
    """Deliver an event once more (same ``webhook-id``), with a fresh retry window."""
    row = Delivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery.pk)
    _check_visible(actor, row.subscription)
    row.status = DeliveryStatus.PENDING
    row.next_attempt_at = timezone.now()
    row.first_attempt_at = None
    row.delivered_at = None
    row.locked_until = None
    row.save()
    _enqueue_stream(row.subscription_id, row.stream_key)
    logger.info("Webhook delivery %s sent again by %s", row.pk, getattr(actor, "username", None))
    return row


# --------------------------------------------------------------------------- background tasks
# Defined beside the services they run, so that the services enqueue them without importing a module that imports
# them back (``webhooks.tasks`` keeps their old names for jobs queued under them). The database backend or RQ, by
# setting.


@task()
def dispatch_outbox() -> int:
    """Fan committed events out to their subscriptions (one run handles every pending event)."""
    return outbox_dispatch()


@task()
def deliver_stream(subscription_pk: int, stream_key: str) -> str:
    """Deliver one (subscription, order) stream in event order."""
    result = stream_deliver(subscription_pk=subscription_pk, stream_key=stream_key)
    return f"{result.sent} sent, {result.state}"


@task()
def sweep_deliveries() -> int:
    """Pick up what nobody is working on: undispatched events, due retries, expired leases."""
    outbox_dispatch()
    return deliveries_sweep()
