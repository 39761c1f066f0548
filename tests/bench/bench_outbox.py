"""Outbox throughput: how fast the API produces webhook events, and how fast workers deliver them.

Run with ``make bench`` (or ``python tests/bench/bench_outbox.py --events 400 --workers 2``). It uses a
scratch database (a temporary SQLite file, or ``DATABASE_URL`` when set: give it a database of its own, the
bench migrates and fills it), a loopback HTTP receiver that verifies every Standard Webhooks signature, and
``manage.py db_worker --batch`` processes as the workers.

1. Produce: agents POST issues through ``/api/v1/orders/{id}/issues`` (one ``issue.created`` each), spread
   over many orders; events per second = events written / wall time of the requests.
2. Deliver: the workers run the dispatch and delivery tasks until the queue is empty; events per second =
   events delivered (2xx recorded) / wall time from the first worker's start to the last delivery.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_env(database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "WEBHOOKS_ALLOW_INSECURE": "1",
        "API_WRITE_RATE": "100000000/min",
        "TASKS_BACKEND": "db",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "0",
    }
    os.environ.update(env)
    return env


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    lock = threading.Lock()
    ok = 0
    bad = 0

    def do_POST(self):  # noqa: N802 - http.server's naming
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            Webhook(Receiver.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
            verified = True
        except WebhookVerificationError:
            verified = False
        with Receiver.lock:
            if verified:
                Receiver.ok += 1
            else:
                Receiver.bad += 1
        self.send_response(204 if verified else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--workers", type=int, default=0, help="default: 1 on SQLite, 4 on PostgreSQL")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="bench-outbox-")
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    env = setup_env(database_url)
    sqlite = database_url.startswith("sqlite")
    workers = args.workers or (1 if sqlite else 4)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from django.conf import settings
    from django_tasks_db.models import DBTaskResult
    from rest_framework.test import APIClient

    from tests.factories import employee, order_with_items
    from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription
    from webhooks.services import subscription_create

    # a scratch database: what an earlier run left (subscriptions to its dead receiver, tasks) goes first
    Subscription.objects.all().delete()
    OutboxEvent.objects.all().delete()
    DBTaskResult.objects.all().delete()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    agent = employee("emp_bench_001", "agent")
    manager = employee("emp_bench_mgr", "manager")
    created = subscription_create(
        actor=manager,
        url=f"http://127.0.0.1:{server.server_address[1]}/hook",
        account=settings.DEFAULT_ACCOUNT_ID,
        event_types=["issue.created"],
    )
    Receiver.secret = created.secret
    orders = [order_with_items(items=1) for _ in range(args.orders)]
    OutboxEvent.objects.all().delete()
    DBTaskResult.objects.all().delete()

    client = APIClient()
    from rest_framework.authtoken.models import Token

    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=agent).key}")
    started = time.perf_counter()
    for n in range(args.events):
        order = orders[n % len(orders)]
        response = client.post(
            f"/api/v1/orders/{order.order_id}/issues",
            {"issue_type": "wrong_item", "title": f"Bench {n}"},
            format="json",
        )
        if response.status_code != 201:
            print(f"API answered {response.status_code}: {response.content[:200]!r}", file=sys.stderr)
            return 1
    produce_s = time.perf_counter() - started
    produced = OutboxEvent.objects.count()

    from django.db import connections

    connections.close_all()
    started = time.perf_counter()
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--batch",
        "--no-startup-delay",
        "--interval",
        "0.05",
        "-v",
        "0",
    ]

    def spawn():
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = [spawn() for _ in range(workers)]
    deadline = time.time() + 600
    while time.time() < deadline:
        delivered = Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
        if delivered >= produced:
            break
        if all(p.poll() is not None for p in procs):
            # batch workers stop when the queue looks empty; start one more if work is left
            procs.append(spawn())
        time.sleep(0.02)
    deliver_s = time.perf_counter() - started
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    delivered = Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
    server.shutdown()

    engine = "SQLite" if sqlite else "PostgreSQL"
    print(
        f"outbox ({engine}, {workers} db_worker{'s' if workers > 1 else ''}, {args.orders} orders): "
        f"API produced {produced} events in {produce_s:.2f} s = {produced / produce_s:.0f} events/s; "
        f"delivered {delivered} in {deliver_s:.2f} s = {delivered / deliver_s:.0f} events/s "
        f"to a loopback receiver ({Receiver.ok} signatures verified, {Receiver.bad} bad)"
    )
    return 0 if delivered == produced and Receiver.bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
