"""API writes are throttled per caller (employee or fabric API key); reads are not.

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["writes"]`` (env ``API_WRITE_RATE``, e.g.
``120/min``). Refusals are 429 ``RATE_LIMITED`` in the path's dialect, with ``Retry-After``.

Counts live in the default cache: with ``REDIS_URL`` set, Redis (``config/settings.py``), so every process of every
node counts against one budget per caller. Each window (a minute for ``/min``) is one counter, created with
``add`` and raised with ``incr``, both atomic in Redis, so concurrent writes on several nodes are never counted
once between them. If the cache cannot be reached the write is let through and the failure logged: a cache outage
must not stop the back office (``/readyz`` reports it).
"""

import logging
import math

from django.core.cache import cache as default_cache
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WriteRateThrottle(SimpleRateThrottle):
    scope = "writes"
    cache = default_cache

    def get_cache_key(self, request, view):
        if request.method in SAFE_METHODS:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        elif getattr(request, "auth", None) is not None and getattr(request.auth, "pk", None) is not None:
            ident = f"apikey:{request.auth.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        self.now = now
        key = f"{key}:{window}"
        try:
            self.cache.add(key, 0, timeout=self.duration + 1)
            count = self.cache.incr(key)
        except ValueError:  # the counter expired between add and incr: this write opens the window
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        except Exception:  # noqa: BLE001 - the cache is down: let the write through (module docstring)
            logger.warning("write throttle: the cache did not answer; the write is not counted", exc_info=True)
            return True
        return count <= self.num_requests

    def wait(self):
        return max(1, math.ceil(self.window_ends - self.now))
