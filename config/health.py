"""Probes, no authentication.

``GET /healthz``: liveness, cheap: 200 when the database answers ``SELECT 1``, 503 otherwise. No detail.

``GET /readyz``: readiness, for a load balancer deciding whether a node takes traffic: the database, the cache
(with ``REDIS_URL``: Redis, where the write limits are counted), the task backend (the task table, or RQ's Redis)
and that every migration is applied. 200 ``{"status": "ready", "checks": {...: "ok"}}``, or 503 ``{"status":
"unavailable", "failed": [names], "checks": {...}}``. Names only: the errors (which may carry addresses or
credentials) go to the log.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks import task_backends

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"; the detail goes to the log only
        logger.exception("healthz: the database did not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


def check_tasks() -> None:
    backend = task_backends["default"]
    module = type(backend).__module__
    if module.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.only("pk").first()
    elif module.startswith("django_tasks_rq"):
        import redis

        url = settings.RQ_QUEUES["default"]["URL"]
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()


_migrated = False  # once every migration is applied it stays so for the life of the process


def check_migrations() -> None:
    global _migrated
    if _migrated:
        return
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migration(s) not applied")
    _migrated = True


CHECKS = {"database": check_database, "cache": check_cache, "tasks": check_tasks, "migrations": check_migrations}


@never_cache
@require_GET
def readyz(request):
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the detail goes to the log only
            logger.exception("readyz: %s check failed", name)
            checks[name] = "failed"
        else:
            checks[name] = "ok"
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, "checks": checks}, status=503)
    return JsonResponse({"status": "ready", "checks": checks})
