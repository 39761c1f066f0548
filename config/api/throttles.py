"""API writes are throttled per caller (employee or fabric API key); reads are not.

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["writes"]`` (env ``API_WRITE_RATE``, e.g.
``120/min``). Refusals are 429 ``RATE_LIMITED`` in the path's dialect, with ``Retry-After``. Counts live
in the default cache: configure a shared cache when running several processes.
"""

from rest_framework.throttling import SimpleRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WriteRateThrottle(SimpleRateThrottle):
    scope = "writes"

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
