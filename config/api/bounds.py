"""Input bounds shared by the three API dialects: body size, JSON nesting, control characters, NUL bytes.

Every check here is linear in the input, uses no recursion and runs before any database work:

- ``API_MAX_BODY_BYTES`` (default 256 KB): a larger body is a 413 (``PAYLOAD_TOO_LARGE``; ccagent ``13001``);
- ``API_MAX_JSON_DEPTH`` (32): JSON nested deeper (a body, or the fabric ``x-site-context`` header) is a 400
  (``PARSE_ERROR``; ccagent ``13001``; fabric ``INVALID_SITE_CONTEXT`` for the header), found by scanning the
  text, never by parsing it;
- control characters (U+0000-U+001F, U+007F-U+009F) in a path under an API prefix are a 404, in a query
  parameter a 400 naming the parameter, in a request header (tab excepted) a 400 naming the header; a NUL
  (``\\u0000``) in any string of a JSON body is a 400 naming the field (PostgreSQL cannot store it in text).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from config.errors import DomainError

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_JSON_DEPTH = 32
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"

# A JSON string, escapes included; the closing quote is optional so that a match never fails (an unterminated
# string runs to the end instead of being retried from every later quote: linear time on any input).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKETS_AS_SQUARE = str.maketrans("{}", "[]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Header values reach Django as latin-1 text of the raw bytes: U+0080-U+009F there are UTF-8 continuation bytes
# of ordinary text, and a tab is allowed inside a header value. The rest of C0 and DEL are refused.
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def max_json_depth() -> int:
    return int(getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH))


class PayloadTooLarge(DomainError):
    code = PAYLOAD_TOO_LARGE  # type: ignore[assignment]  # not (yet) an ErrorCode member: a plain string code
    status = 413

    def __init__(self, limit: int | None = None) -> None:
        limit = max_body_bytes() if limit is None else limit
        super().__init__(f"The request body is larger than the limit of {limit} bytes", max_bytes=limit)


def json_too_deep(text: str, limit: int | None = None) -> bool:
    """Whether the JSON ``text`` nests objects/arrays more than ``limit`` levels (``{}`` is one level).

    Strings are dropped, ``{}`` become ``[]``, then the innermost pairs are removed ``limit`` times: a pair left
    means a deeper structure. A run of more than ``limit`` openers is too deep even if never closed (malformed
    text is refused by the parser anyway). No recursion, no parsing: a 256 KB body takes a few milliseconds.
    """
    limit = max_json_depth() if limit is None else limit
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).translate(_BRACKETS_AS_SQUARE)
    for _ in range(limit):
        if "[" * (limit + 1) in brackets:
            return True
        inner_removed = brackets.replace("[]", "")
        if inner_removed == brackets:
            break
        brackets = inner_removed
    return "[]" in brackets or "[" * (limit + 1) in brackets


def has_control_character(text: str) -> bool:
    return _CONTROL.search(text) is not None


def header_with_control_character(meta: dict) -> str | None:
    """The name (``x-api-key``) of the first request header whose value holds a control character, or None."""
    for key, value in meta.items():
        if key.startswith("HTTP_") and isinstance(value, str) and _HEADER_CONTROL.search(value):
            return key[5:].replace("_", "-").lower()
    return None


def printable_name(name: str) -> str:
    """A parameter name fit for an error message (control characters escaped)."""
    return name.encode("unicode_escape").decode("ascii") if has_control_character(name) else name


def nul_field(data: Any) -> str | None:
    """The path (``items[0].sku``) of the first string of a parsed JSON body holding a NUL, or None.

    Iterative; keys are checked too (their path is the object's). The body is already known to be shallow."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "non_field_errors"
        elif isinstance(value, dict):
            for key, child in reversed(list(value.items())):
                if "\x00" in key:
                    return f"{path}.{printable_name(key)}" if path else printable_name(key)
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(value))))
    return None
