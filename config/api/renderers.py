"""JSON rendering that keeps money exact: Decimals are written as JSON numbers with their scale (15.50)."""

import simplejson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class MoneyJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        encoder = JSONEncoder()
        text = simplejson.dumps(
            data,
            default=encoder.default,
            use_decimal=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
        return text.encode("utf-8")
