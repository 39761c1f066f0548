"""Structured logs (docs/operations.md, "Logs"): one JSON object a line, with ``timestamp``, ``level``, ``event``,
``logger`` and, within a request, ``request_id`` and ``user_id`` (the employee id); the ``request_finished`` line
adds ``code``, ``request`` (method and path) and ``latency_ms``.

The request id is the caller's ``X-Request-ID`` when it is a plain token (letters, digits, ``-_.:``, at most 128
characters; anything else is replaced, so no one can forge log lines through it), else a new UUID; the answer
echoes it in ``X-Request-ID``. Logs written by any library within the request (``logging``) carry it too.
"""

from __future__ import annotations

import re
import time
import uuid

from django.dispatch import receiver
from django_structlog import signals
from django_structlog.middlewares import RequestMiddleware

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request middleware, with a checked request id echoed to the caller and the latency."""

    def __call__(self, request):
        supplied = request.META.get(REQUEST_ID_HEADER, "")
        request_id = supplied if REQUEST_ID_RE.match(supplied) else str(uuid.uuid4())
        request.META[REQUEST_ID_HEADER] = request_id
        request.__dict__.pop("headers", None)  # HttpRequest.headers is cached: read the checked id from META again
        request._log_started = time.perf_counter()
        response = super().__call__(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(signals.bind_extra_request_finished_metadata, dispatch_uid="config.request_logging.latency")
def _latency(sender, request, logger, response, log_kwargs, **kwargs):
    started = getattr(request, "_log_started", None)
    if started is not None:
        log_kwargs["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
