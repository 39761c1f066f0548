"""Turns every error raised under the API into the dialect's error body.

One handler for all three API families; the request path picks the dialect. The back-office dialect
(``/api/v1/``) is ``{"success": false, "message", "error_code", ...context}`` as in docs/api/backoffice.md. Later
dialects register themselves with :func:`register_dialect`.

Unexpected exceptions are not answered here: DRF re-raises them and ``config.api.middleware`` answers 500 in
the dialect (a :class:`RepositoryError` for a database error, ccagent ``900001``; else an
:class:`UnexpectedError`, ccagent ``900000``), DEBUG on or off, never with the exception's text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config import errors
from config.api.bounds import PayloadTooLarge
from config.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)


class UnexpectedError(DomainError):
    """A 500 for any exception nobody expected; its text is logged, never answered."""

    code = ErrorCode.INTERNAL_ERROR
    status = 500
    default_message = "An unexpected error occurred"


class RepositoryError(UnexpectedError):
    """A 500 for a database error (``django.db.DatabaseError`` and subclasses): ccagent ``900001``."""


def error_for_unexpected(exc: BaseException | None) -> UnexpectedError:
    return RepositoryError() if isinstance(exc, DatabaseError) else UnexpectedError()


def bad_request() -> DomainError:
    err = DomainError("Bad request")
    err.code, err.status = ErrorCode.VALIDATION_ERROR, 400
    return err


def error_for_exception(exc: BaseException) -> DomainError:
    """Any exception as the error an API client gets: known ones as :func:`to_domain_error` says, Django's
    request errors as 400 (413 for a body over Django's own limit), everything else a 500."""
    if isinstance(exc, Exception):
        err = to_domain_error(exc)
        if err is not None:
            return err
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError):
        return bad_request()
    return error_for_unexpected(exc)


Renderer = Callable[[DomainError, int], dict[str, Any]]


def backoffice_body(err: DomainError, status: int) -> dict[str, Any]:
    return {"success": False, "message": err.message, "error_code": str(err.code), **err.extra}


_DIALECTS: list[tuple[str, Renderer]] = []
API_PREFIXES = ("/api/",)


def register_dialect(prefix: str, renderer: Renderer) -> None:
    """Errors for paths under ``prefix`` are rendered by ``renderer(error, status)``."""
    _DIALECTS[:] = [(p, r) for p, r in _DIALECTS if p != prefix] + [(prefix, renderer)]
    _DIALECTS.sort(key=lambda pr: -len(pr[0]))


def renderer_for(path: str) -> Renderer:
    for prefix, renderer in _DIALECTS:
        if path.startswith(prefix):
            return renderer
    return backoffice_body


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or any(path.startswith(p) for p, _ in _DIALECTS)


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as ``[{"field": "items[0].sku", "error": "..."}]``."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                field = prefix or "non_field_errors"
            elif isinstance(key, int):  # ListSerializer errors come keyed by index: items[0].sku
                field = f"{prefix}[{key}]"
            else:
                field = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, field))
    elif isinstance(detail, list | tuple):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list | tuple):
                out.extend(flatten_errors(value, f"{prefix}[{index}]"))
            else:
                out.append({"field": prefix or "non_field_errors", "error": str(value)})
    else:
        out.append({"field": prefix or "non_field_errors", "error": str(detail)})
    return out


def to_domain_error(exc: Exception) -> DomainError | None:
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailed(flatten_errors(exc.detail))
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return errors.ValidationFailed(flatten_errors(detail))
    if isinstance(exc, Http404 | drf.NotFound):
        return errors.NotFound("Not found")
    if isinstance(exc, drf.NotAuthenticated):
        err = DomainError("Authentication credentials were not provided")
        err.code, err.status = ErrorCode.AUTHENTICATION_REQUIRED, 401
        return err
    if isinstance(exc, drf.AuthenticationFailed):
        err = DomainError(str(exc.detail))
        err.code, err.status = ErrorCode.AUTHENTICATION_FAILED, 401
        return err
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        detail = getattr(exc, "detail", None) or str(exc) or errors.PermissionDenied.default_message
        return errors.PermissionDenied(str(detail))
    if isinstance(exc, TransitionNotAllowed):
        return errors.InvalidStatusTransition(str(exc) or None)
    if isinstance(exc, ConcurrentTransition):
        return errors.ConcurrentUpdate()
    simple = {
        drf.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, 405),
        drf.ParseError: (ErrorCode.PARSE_ERROR, 400),
        drf.UnsupportedMediaType: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415),
        drf.NotAcceptable: (ErrorCode.NOT_ACCEPTABLE, 406),
        drf.Throttled: (ErrorCode.RATE_LIMITED, 429),
    }
    for cls, (code, status) in simple.items():
        if isinstance(exc, cls):
            err = DomainError(str(exc.detail))
            err.code, err.status = code, status
            return err
    if isinstance(exc, drf.APIException):
        err = DomainError(str(exc.detail))
        err.status = exc.status_code
        return err
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    err = to_domain_error(exc)
    if err is None:
        return None  # unexpected: Django's handler500 answers (JSON under the API)
    path = request.path if request is not None else "/api/"
    body = renderer_for(path)(err, err.status)
    response = Response(body, status=err.status)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        response["Retry-After"] = str(int(wait))
    if isinstance(exc, drf.MethodNotAllowed) and context.get("view") is not None:
        response["Allow"] = ", ".join(context["view"].allowed_methods)
    return response


def _json_error(request, err: DomainError) -> JsonResponse:
    return JsonResponse(renderer_for(request.path)(err, err.status), status=err.status)


def json_error(request, err: DomainError) -> JsonResponse:
    """``err`` as a JSON answer in the dialect of ``request``'s path."""
    return _json_error(request, err)


def handler404(request, exception=None):
    if is_api_path(request.path):
        return _json_error(request, errors.NotFound("Not found"))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if is_api_path(request.path):
        # Django calls this while handling the exception (raised in a middleware, say): sys.exc_info() has it.
        return _json_error(request, error_for_unexpected(sys.exc_info()[1]))
    from django.views.defaults import server_error

    return server_error(request)


def csrf_failure(request, reason: str = "", template_name: str = "403_csrf.html"):
    """``CSRF_FAILURE_VIEW``: a 403 in the dialect's body under the API prefixes, Django's HTML page elsewhere."""
    if is_api_path(request.path):
        return _json_error(request, errors.PermissionDenied(f"CSRF Failed: {reason}" if reason else "CSRF Failed"))
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason, template_name=template_name)


def handler403(request, exception=None):
    if is_api_path(request.path):
        return _json_error(request, errors.PermissionDenied(str(exception) if exception else None))
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler400(request, exception=None):
    if is_api_path(request.path):
        return _json_error(request, PayloadTooLarge() if isinstance(exception, RequestDataTooBig) else bad_request())
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)


@csrf_exempt  # it changes nothing: an unknown path is a 404 whatever the method and the session (no CSRF 403)
def api_not_found(request, *args, **kwargs):
    """Catch-all for unknown URLs under the API prefixes (Django's debug 404 page is HTML)."""
    return _json_error(request, errors.NotFound("Not found"))
