"""JSON parsing that reads numbers with a fraction as Decimal, never float, so money stays exact.

The one JSON parser of the three dialects also bounds the input (``config.api.bounds``): at most
``API_MAX_BODY_BYTES`` are read (413 past them, even without a ``Content-Length``), JSON nested deeper than
``API_MAX_JSON_DEPTH`` (32) levels is a 400 found by scanning the text before it is parsed, and a NUL in any
string is a 400 naming the field.
"""

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.api.bounds import PayloadTooLarge, json_too_deep, max_body_bytes, max_json_depth, nul_field
from config.errors import ValidationFailed


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(limit)
        if not raw:
            return {}
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        depth = max_json_depth()
        if json_too_deep(text, depth):
            raise ParseError(f"Malformed JSON: nested deeper than {depth} levels")
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError:  # pragma: no cover - the depth scan refuses such bodies first
            raise ParseError(f"Malformed JSON: nested deeper than {depth} levels") from None
        if "u0000" in text:  # a NUL can only come from the escape: JSON text holds no raw control characters
            field = nul_field(data)
            if field is not None:
                raise ValidationFailed.single(field, "Must not contain the NUL character (\\u0000)")
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")
