"""Delivery to a real HTTP receiver on loopback; the receiver verifies every signature with standardwebhooks."""

import json
import socket
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from issues.models import Notification
from issues.services import issue_create, issue_update
from tests.factories import OrderFactory, order_with_items
from tests.webhooks.conftest import drain
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Subscription
from webhooks.services import deliveries_sweep, outbox_dispatch, stream_deliver

pytestmark = pytest.mark.django_db


def new_issue(agent, order=None, title="Wrong item"):
    order = order or order_with_items()
    return issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": title})


def test_delivered_signed_and_logged(agent, receiver, subscribe):
    # given
    sub = subscribe()
    issue = new_issue(agent)
    # when
    drain()
    # then: one verified request, carrying the outbox body byte for byte
    event = OutboxEvent.objects.get()
    assert receiver.unverified == []
    [got] = receiver.received
    assert got.webhook_id == event.event_id
    assert got.raw == event.body.encode()
    assert got.body["data"]["issue_id"] == issue.issue_id
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.succeeded
    assert attempt.status_code == 200
    assert '"ok": true' in attempt.response_excerpt
    assert delivery.subscription == sub


def test_fails_three_times_then_succeeds_same_id_nothing_else(agent, receiver, subscribe):
    subscribe()
    receiver.script = [500, 503, 429]
    new_issue(agent)

    drain()  # first attempt fails; the retry is not due yet
    assert len(receiver.received) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()
    drain(retry=True)

    event = OutboxEvent.objects.get()
    assert receiver.ids == [event.event_id] * 4
    assert len({r.raw for r in receiver.received}) == 1  # the same body each time
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 4)
    assert list(delivery.attempt_log.order_by("id").values_list("status_code", flat=True)) == [500, 503, 429, 200]
    drain(retry=True)
    assert len(receiver.received) == 4  # nothing else


def test_backoff_grows_with_jitter(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    delays = [services.retry_delay(n).total_seconds() for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        full = min(3600, 30 * 2 ** (n - 1))
        assert full / 2 <= delay <= full
    assert delays[-1] >= 1800


def test_rolled_back_change_sends_nothing(agent, receiver, subscribe):
    from django.db import transaction

    subscribe()
    order = order_with_items()

    def change_then_fail():
        with transaction.atomic():
            new_issue(agent, order)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    drain()
    assert receiver.received == []
    assert not Delivery.objects.exists()


def test_worker_dies_between_sending_and_recording_then_redelivers(agent, receiver, subscribe, settings):
    subscribe()
    new_issue(agent)
    outbox_dispatch()
    delivery = Delivery.objects.get()

    class WorkerKilled(BaseException):
        pass

    # when: the worker sends, then dies before it records anything
    with mock.patch.object(services, "delivery_record", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        stream_deliver(subscription_pk=delivery.subscription_id, stream_key=delivery.stream_key)
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 0
    # a live lease: nobody else sends it meanwhile
    assert deliveries_sweep() == 0
    assert stream_deliver(subscription_pk=delivery.subscription_id, stream_key=delivery.stream_key).state == "busy"

    # then: once the lease has run out, the dispatcher hands it out again and it is delivered again
    later = timezone.now() + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS + 1)
    assert deliveries_sweep(now=later) == 1
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    drain()
    assert receiver.ids == [delivery.event.event_id] * 2
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_events_of_one_order_arrive_in_order(agent, receiver, subscribe):
    subscribe()
    order = order_with_items()
    other = order_with_items()
    issue = new_issue(agent, order)
    new_issue(agent, other, title="Other order")
    for status in ("investigating", "in_progress", "resolved"):
        changes = {"status": status}
        if status == "resolved":
            changes.update(notes="done", resolution_description="Replaced")
        issue_update(order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes=changes)
    receiver.script = [500, 500]  # the first event of the order fails twice

    outbox_dispatch()
    for _ in range(3):
        drain(retry=True)

    mine = [r.body for r in receiver.received if r.body["data"]["order_id"] == order.order_id]
    expected = list(
        OutboxEvent.objects.filter(order_key=order.order_id).order_by("id").values_list("event_id", flat=True)
    )
    seen = list(dict.fromkeys(b["id"] for b in mine))
    assert seen == expected
    # no later event of the order went out before the first one was delivered
    first_ok = next(i for i, r in enumerate(receiver.received) if r.webhook_id == expected[0] and i >= 2)
    later = [i for i, r in enumerate(receiver.received) if r.webhook_id in expected[1:]]
    assert min(later) > first_ok
    assert [b["data"].get("to") for b in mine if b["type"] == "issue.status_changed"][-3:] == [
        "investigating",
        "in_progress",
        "resolved",
    ]


def test_a_later_event_waits_while_an_earlier_one_is_retried(agent, receiver, subscribe):
    subscribe()
    order = order_with_items()
    issue = new_issue(agent, order)
    issue_update(order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "investigating"})
    receiver.script = [500]
    drain()
    assert receiver.types == ["issue.created"]  # the status change waits for it
    waiting = Delivery.objects.get(event__type="issue.status_changed")
    assert services.delivery_attempt(delivery_pk=waiting.pk) == "blocked"
    assert receiver.types == ["issue.created"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
    ],
)
def test_private_and_link_local_addresses_are_refused(url, agent, settings):
    # even with WEBHOOKS_ALLOW_INSECURE (loopback allowed), private networks are never called
    sub = Subscription.objects.create(url=url, account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    with mock.patch("socket.create_connection") as connect:
        drain()
    connect.assert_not_called()
    attempt = DeliveryAttempt.objects.get(delivery__subscription=sub)
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused:")


def test_name_resolving_to_a_private_address_is_refused_at_delivery_time(agent, settings):
    sub = Subscription.objects.create(url="https://hooks.example.com/x", account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    with mock.patch("socket.getaddrinfo", return_value=answer), mock.patch("socket.create_connection") as connect:
        drain()
    connect.assert_not_called()
    assert "10.0.0.7" in DeliveryAttempt.objects.get(delivery__subscription=sub).error


def test_loopback_and_plain_http_need_the_setting(agent, receiver, subscribe, settings):
    subscribe()
    settings.WEBHOOKS_ALLOW_INSECURE = False
    new_issue(agent)
    drain()
    assert receiver.received == []
    assert DeliveryAttempt.objects.get().error == "Refused: Only https URLs are allowed, not http"
    with pytest.raises(services.transport.RefusedURL, match="private, loopback"):
        services.transport.check_url("https://127.0.0.1/hook")


def test_redirects_are_not_followed(agent, receiver, subscribe):
    subscribe()
    receiver.script = [302]
    new_issue(agent)
    drain()
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded) == (302, False)
    assert attempt.error == "Redirects are not followed"
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_slow_answer_is_a_failure(agent, httpserver, settings, manager):
    import time

    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3

    def slow(request):
        time.sleep(0.6)
        from werkzeug.wrappers import Response

        return Response("late", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    services.subscription_create(actor=manager, url=httpserver.url_for("/slow"), account=settings.DEFAULT_ACCOUNT_ID)
    new_issue(agent)
    drain()
    attempt = DeliveryAttempt.objects.get()
    assert not attempt.succeeded
    assert attempt.error == "No complete answer within 300 ms"


class _NeverFires:
    def __init__(self, *args, **kwargs):
        pass

    def start(self):
        pass

    def cancel(self):
        pass


@pytest.mark.parametrize("first", ["socket timeout", "watchdog"])
def test_a_silent_receiver_reads_the_same_whichever_limit_fires_first(first, httpserver, settings):
    """Both the socket's read timeout and the watchdog sit at the limit; which wins is a race, the message is not."""
    import time

    from werkzeug.wrappers import Response

    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3

    def silent(request):
        time.sleep(0.8)
        return Response("late", status=200)

    httpserver.expect_request("/silent").respond_with_handler(silent)
    if first == "socket timeout":
        patch = mock.patch("webhooks.transport.threading.Timer", _NeverFires)
    else:  # the socket would wait far longer than the watchdog
        original = services.transport._PinnedHTTP.__init__

        def slow_socket(self, host, port, *, address, timeout):
            original(self, host, port, address=address, timeout=timeout * 10)

        patch = mock.patch.object(services.transport._PinnedHTTP, "__init__", slow_socket)
    with patch:
        answer = services.transport.post(httpserver.url_for("/silent"), body=b"{}", headers={})
    assert not answer.ok
    assert answer.status_code is None
    assert answer.error == "No complete answer within 300 ms"


def test_gives_up_after_the_window_then_disables_after_a_run_of_failures(
    agent, manager, other_manager, receiver, subscribe, settings
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    sub = subscribe()
    receiver.script = [500] * 50
    new_issue(agent)
    new_issue(agent)
    drain()
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    # a day goes by
    Delivery.objects.update(first_attempt_at=timezone.now() - timedelta(hours=settings.WEBHOOKS_RETRY_WINDOW_HOURS))
    drain(retry=True)
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 2
    sub.refresh_from_db()
    assert not sub.active
    assert sub.consecutive_failures == 2
    assert "2 deliveries in a row failed" in sub.disabled_reason
    notified = Notification.objects.filter(kind=services.NOTIFY_KIND)
    assert set(notified.values_list("recipient__username", flat=True)) == {manager.username, other_manager.username}
    # a disabled subscription gets nothing new
    sent = len(receiver.received)
    new_issue(agent)
    drain(retry=True)
    assert len(receiver.received) == sent


def test_success_resets_the_failure_run(agent, receiver, subscribe, settings):
    sub = subscribe()
    Subscription.objects.filter(pk=sub.pk).update(consecutive_failures=3)
    new_issue(agent)
    drain()
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0
    assert sub.active


def test_reactivating_resumes_pending_deliveries(agent, manager, receiver, subscribe):
    sub = subscribe()
    new_issue(agent)
    outbox_dispatch()
    Subscription.objects.filter(pk=sub.pk).update(active=False)
    drain()
    assert receiver.received == []
    services.subscription_update(actor=manager, subscription=sub, changes={"active": True})
    drain()
    assert len(receiver.received) == 1


def test_account_scope_and_event_types(agent, receiver, subscribe, httpserver):
    subscribe(event_types=["issue.status_changed"])
    other_account = "0a1b2c3d4e5f0a1b2c3d4e5f"
    OrderFactory(account=other_account)  # an account known to the system (a subscription must name one)
    subscribe(account=other_account)
    order = order_with_items()
    issue = new_issue(agent, order)
    issue_update(order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "investigating"})
    drain()
    assert receiver.types == ["issue.status_changed"]


def test_rotation_signs_with_both_secrets_during_the_grace_period(agent, manager, receiver, subscribe):
    sub = subscribe()
    old_secret = receiver.secrets[0]
    new_secret = services.subscription_rotate_secret(actor=manager, subscription=sub, grace_hours=1)
    receiver.secrets = [new_secret]  # a receiver that already has the new one
    new_issue(agent)
    drain()
    [got] = receiver.received
    headers = {"webhook-id": got.webhook_id, "webhook-timestamp": got.timestamp}
    signature = services.signature_headers(
        event_id=got.webhook_id,
        body=got.raw.decode(),
        secrets=Subscription.objects.get(pk=sub.pk).signing_secrets(),
        when=datetime.fromtimestamp(int(got.timestamp), tz=UTC),
    )["webhook-signature"]
    assert len(signature.split(" ")) == 2
    for secret in (old_secret, new_secret):  # both verify during the grace period
        Webhook(secret).verify(got.raw, {**headers, "webhook-signature": signature})
    # after the grace period only the new secret signs
    Subscription.objects.filter(pk=sub.pk).update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    assert Subscription.objects.get(pk=sub.pk).signing_secrets() == [new_secret]


def test_send_again_and_test_event(agent, manager, receiver, subscribe):
    sub = subscribe(event_types=["issue.assigned"])
    delivery = services.subscription_send_test(actor=manager, subscription=sub)
    drain()
    assert receiver.types == ["webhook.test"]
    assert receiver.received[0].body["data"]["subscription_id"] == sub.subscription_id
    services.delivery_send_again(actor=manager, delivery=delivery)
    drain()
    assert receiver.ids == [delivery.event.event_id] * 2
    assert json.loads(delivery.event.body)["type"] == "webhook.test"


def test_test_event_reaches_a_disabled_subscription(agent, manager, receiver, subscribe):
    sub = subscribe()
    Subscription.objects.filter(pk=sub.pk).update(active=False)
    new_issue(agent)
    services.subscription_send_test(actor=manager, subscription=sub)
    drain()
    assert receiver.types == ["webhook.test"]  # the issue event waits for re-activation


def test_prune_keeps_pending_and_recent_events(agent, receiver, subscribe):
    from django.core.management import call_command

    subscribe()
    new_issue(agent)
    new_issue(agent)
    drain()
    pending = OutboxEvent.objects.order_by("id").last()
    Delivery.objects.filter(event=pending).update(status=DeliveryStatus.PENDING)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(days=31))
    new_issue(agent)
    outbox_dispatch()
    call_command("webhooks_prune", "--days", "30", verbosity=0)
    assert OutboxEvent.objects.count() == 2  # the one still pending and the recent one
    assert OutboxEvent.objects.filter(pk=pending.pk).exists()
    assert DeliveryAttempt.objects.filter(delivery__event=pending).exists()


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_timeout(httpserver, settings):
    import time

    from werkzeug.wrappers import Response

    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5

    def drip(request):
        def chunks():
            for _ in range(20):
                time.sleep(0.2)  # each read is quick enough; the whole answer is not
                yield b"x"

        return Response(chunks(), status=200)

    httpserver.expect_request("/drip").respond_with_handler(drip)
    started = time.monotonic()
    answer = services.transport.post(httpserver.url_for("/drip"), body=b"{}", headers={})
    assert time.monotonic() - started < 1.5
    assert not answer.ok
    assert answer.error
