"""Where django-unfold (0.91) costs more than it needs to, fixed at start-up (docs/performance.md, "The admin").

- **Column headers once per changelist, not once per row.** Unfold's ``items_for_result`` builds every column's
  header (label, sort links, query strings) again for each row, to label the cells on narrow screens: 50 rows of
  8 columns was 400 header builds instead of 8, 40% of an issue changelist's time. The headers depend only on the
  changelist, so the first build is kept on it and given to every row.
"""

from __future__ import annotations

from unfold.templatetags import unfold_list

_result_headers = unfold_list.result_headers


def result_headers_once(cl):
    """Unfold's ``result_headers(cl)``, built on the first call for this changelist and kept on it."""
    headers = getattr(cl, "_desk_result_headers", None)
    if headers is None:
        headers = cl._desk_result_headers = list(_result_headers(cl))
    return iter(headers)


def install() -> None:
    unfold_list.result_headers = result_headers_once
