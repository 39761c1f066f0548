"""A real HTTP receiver on loopback (pytest-httpserver) that verifies every Standard Webhooks signature."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.wrappers import Response

from webhooks.models import Delivery, DeliveryStatus, EventType
from webhooks.services import outbox_dispatch, stream_deliver, subscription_create


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_INSECURE = True  # the receiver is plain http on 127.0.0.1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    body: dict
    raw: bytes


@dataclass
class Receiver:
    """Answers each request with the next status of ``script`` (then 200), after verifying its signature."""

    url: str
    secrets: list[str] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request):
        raw = request.get_data()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = None
        for secret in self.secrets:
            try:
                verified = Webhook(secret).verify(raw, headers)
                break
            except WebhookVerificationError:
                continue
        with self.lock:
            if verified is None:
                self.unverified.append(headers.get("webhook-id", "?"))
                return Response("bad signature", status=400)
            self.received.append(Received(headers["webhook-id"], headers["webhook-timestamp"], verified, raw))
            status = self.script.pop(0) if self.script else 200
        return Response(json.dumps({"ok": status < 300}), status=status, content_type="application/json")

    @property
    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    @property
    def types(self) -> list[str]:
        return [r.body["type"] for r in self.received]


@pytest.fixture
def receiver(httpserver) -> Receiver:
    rec = Receiver(url=httpserver.url_for("/hook"))
    httpserver.expect_request("/hook", method="POST").respond_with_handler(rec.handle)
    return rec


@pytest.fixture
def subscribe(manager, receiver):
    """``subscribe(event_types=None, account=DEFAULT)``: a subscription pointing at the receiver."""

    def make(event_types=None, account=None, url=None, rec=None):
        rec = rec or receiver
        created = subscription_create(
            actor=manager,
            url=url or rec.url,
            account=account or settings.DEFAULT_ACCOUNT_ID,
            event_types=event_types,
        )
        rec.secrets.append(created.secret)
        return created.subscription

    return make


def make_due() -> None:
    """Time passes: every pending retry is due now."""
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())


def drain(rounds: int = 20, *, retry: bool = False) -> None:
    """What the worker does, in this thread: fan out, then deliver each due stream (``retry``: retries too)."""
    outbox_dispatch()
    for _ in range(rounds):
        if retry:
            make_due()
        due = (
            Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            .filter(Q(subscription__active=True) | Q(event__type=EventType.PING))
            .values_list("subscription_id", "stream_key")
            .distinct()
        )
        streams = list(due)
        if not streams:
            return
        for sub_pk, key in streams:
            stream_deliver(subscription_pk=sub_pk, stream_key=key)
