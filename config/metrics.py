"""``GET /metrics``: Prometheus metrics (docs/operations.md, "Metrics").

Off unless ``METRICS_TOKEN`` is set (404); then only for ``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise).
The page holds django-prometheus's request metrics (latency, status, method by view; under gunicorn summed over
every worker process from ``PROMETHEUS_MULTIPROC_DIR``, see config/gunicorn.conf.py) followed by the business
gauges, computed at scrape time by the collectors the apps register here (``register_collector``; desk registers
the cross-app ones in ``DeskConfig.ready``).
"""

from __future__ import annotations

import hmac
import os

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, multiprocess

from config.db_router import reads_from_replica

_business = CollectorRegistry(auto_describe=False)
_registered: set[str] = set()


def register_collector(name: str, collector) -> None:
    """Add a collector whose ``collect()`` runs at every scrape (once per ``name``)."""
    if name not in _registered:
        _business.register(collector)
        _registered.add(name)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def _authorized(request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, supplied = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), settings.METRICS_TOKEN.encode()
    )


@never_cache
@require_GET
def metrics(request):
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    if not _authorized(request):
        response = JsonResponse({"detail": "A bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    with reads_from_replica():  # the business gauges tolerate a little replica lag
        business = prometheus_client.generate_latest(_business)
    body = prometheus_client.generate_latest(_process_registry()) + business
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
