"""The API's outer boundary: refuses out-of-bounds requests before any work and keeps every answer JSON.

For paths under the API prefixes (``/api/``, ``/api-order/``, ``/ccagent/``), before any view, database
query or authentication runs:

1. a path whose decoded form holds a control character (``/api/v1/orders/%00``) is a 404;
2. a ``Content-Length`` over ``API_MAX_BODY_BYTES`` (default 256 KB) is a 413 (the JSON parser also stops
   reading past it, for bodies sent without a length);
3. a request header whose value holds a control character (tab excepted) is a 400 naming it (the token and
   API-key headers are looked up in the database);
4. a query parameter whose name or value holds a control character (``?orderId=%00``) is a 400 naming it.

Each in the path's dialect. After the view: an exception nobody handled is a 500 in the dialect
(ccagent ``900001`` for a database error, ``900000`` otherwise; logged with its traceback, never answered),
DEBUG on or off; and any other error answer that is not JSON (a page Django made by itself) is replaced by
the dialect's body for its status, so no API answer is ever an HTML page.
"""

from __future__ import annotations

import sys

from django.core import signals
from django.core.exceptions import SuspiciousOperation
from django.utils.log import log_response

from config import errors
from config.api.bounds import (
    PayloadTooLarge,
    has_control_character,
    header_with_control_character,
    max_body_bytes,
    printable_name,
)
from config.api.exception_handler import (
    bad_request,
    error_for_exception,
    error_for_unexpected,
    is_api_path,
    json_error,
)
from config.errors import DomainError, ErrorCode

_EXCEPTION_ATTR = "_api_unhandled_exception"


def _remember_exception(sender, request=None, **kwargs):
    """``got_request_exception``: keep the exception on the request, so a 500 page made without it (Django's
    DEBUG page for an exception raised in a middleware) can still be answered as the right ccagent code."""
    if request is not None:
        setattr(request, _EXCEPTION_ATTR, sys.exc_info()[1])


signals.got_request_exception.connect(_remember_exception, dispatch_uid="config.api.middleware.remember")


def refusal(request) -> DomainError | None:
    """The error answering an out-of-bounds API request before any work, or None."""
    if has_control_character(request.path):
        return errors.NotFound("Not found")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = max_body_bytes()
    if length > limit:
        return PayloadTooLarge(limit)
    header = header_with_control_character(request.META)
    if header is not None:  # Authorization, x-api-key ... are looked up in the database
        return errors.ValidationFailed(
            [{"field": header, "error": "Must not contain control characters"}],
            message=f"Header '{header}' must not contain control characters",
        )
    try:
        params = list(request.GET.lists())
    except SuspiciousOperation:  # too many parameters (DATA_UPLOAD_MAX_NUMBER_FIELDS)
        return bad_request()
    for name, values in params:
        if has_control_character(name) or any(has_control_character(value) for value in values):
            shown = printable_name(name)
            return errors.ValidationFailed(
                [{"field": shown, "error": "Must not contain control characters"}],
                message=f"Query parameter '{shown}' must not contain control characters",
            )
    return None


def _status_error(status: int, request) -> DomainError:
    if status >= 500:
        err = error_for_unexpected(getattr(request, _EXCEPTION_ATTR, None))
        err.status = status
        return err
    if status == 404:
        return errors.NotFound("Not found")
    if status == 403:
        return errors.PermissionDenied()
    if status == 413:
        return PayloadTooLarge()
    if status == 400:
        return bad_request()
    code, message = _BY_STATUS.get(status, (ErrorCode.VALIDATION_ERROR, "Request refused"))
    err = DomainError(message)
    err.code, err.status = code, status
    return err


_BY_STATUS = {
    401: (ErrorCode.AUTHENTICATION_REQUIRED, "Authentication credentials were not provided"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed"),
    406: (ErrorCode.NOT_ACCEPTABLE, "Not acceptable"),
    412: (ErrorCode.PRECONDITION_FAILED, "Precondition failed"),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    429: (ErrorCode.RATE_LIMITED, "Too many requests"),
}


class ApiBoundaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path):
            return self.get_response(request)
        refused = refusal(request)
        if refused is not None:
            return json_error(request, refused)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            replacement = json_error(request, _status_error(response.status_code, request))
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if response.has_header(header):
                    replacement[header] = response[header]
            replacement._has_been_logged = True  # Django logged the original
            return replacement
        return response

    def process_exception(self, request, exception):
        """An exception a view raised and nobody answered (DRF re-raises unexpected ones): the dialect's body."""
        if not is_api_path(request.path):
            return None
        err = error_for_exception(exception)
        response = json_error(request, err)
        if err.status >= 500:
            # What Django does for an uncaught exception, before its 500 page: tell the listeners (error
            # reporting; the test client re-raises it) and log it with its traceback.
            signals.got_request_exception.send(sender=None, request=request)
            log_response(
                "Internal Server Error: %s", request.path, response=response, request=request, exception=exception
            )
        return response


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
