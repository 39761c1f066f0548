"""Audit checks shared by the audit tests: what a write changed, and whether history tells who and why.

``Audit()`` snapshots every row of every history-tracked model and the newest history row of each. After
the write, ``audit.assert_by(actor)`` checks that every row that was created, changed or deleted has a
history row of its own, and that every new history row names ``actor`` and gives a change reason;
``audit.assert_nothing()`` checks that a refused attempt changed no tracked row and wrote no history.
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.db.models import Max
from simple_history.models import registered_models


def tracked_models() -> list:
    return sorted(
        (m for m in registered_models.values() if getattr(m, "history", None) is not None),
        key=lambda m: m._meta.label,
    )


def is_tracked(model) -> bool:
    return model in tracked_models()


def snapshot() -> dict:
    state = {}
    for model in tracked_models():
        pk = model._meta.pk.attname
        fields = [pk, *(f.attname for f in model._meta.concrete_fields if f.attname != pk)]
        for row in model._base_manager.order_by().values_list(*fields):
            state[(model._meta.label, row[0])] = row[1:]
    return state


def history_marks() -> dict:
    return {m: m.history.aggregate(last=Max("history_id"))["last"] or 0 for m in tracked_models()}


class Audit:
    def __init__(self):
        self.before = snapshot()
        self.marks = history_marks()

    def rows(self) -> list:
        rows = []
        for model, mark in self.marks.items():
            rows.extend(model.history.filter(history_id__gt=mark).select_related("history_user"))
        return rows

    def changed(self) -> set:
        after = snapshot()
        return {key for key in self.before.keys() | after.keys() if self.before.get(key) != after.get(key)}

    def assert_by(self, *actors, label: str = "") -> list:
        """Something changed; each changed row has a history row; each new history row names one of
        ``actors`` (None: no employee, a system write) and has a change reason. Returns the history rows."""
        changed, rows = self.changed(), self.rows()
        assert changed, f"{label}: the write changed no tracked row"
        recorded = {(r.instance_type._meta.label, getattr(r, r.instance_type._meta.pk.attname)) for r in rows}
        assert not changed - recorded, f"{label}: rows changed without a history row: {sorted(changed - recorded)}"
        allowed = {getattr(a, "pk", None) for a in actors}
        for row in rows:
            what = f"{label}: {row.instance_type._meta.label} {row.history_type} {row.history_change_reason!r}"
            assert row.history_change_reason, f"{what} has no change reason"
            assert row.history_user_id in allowed, f"{what} by {row.history_user} not by {actors}"
        return rows

    def assert_nothing(self, label: str = "") -> None:
        changed, rows = self.changed(), self.rows()
        assert not changed, f"{label}: a refused attempt changed {sorted(changed)}"
        assert not rows, f"{label}: a refused attempt left history rows {rows}"


class _FormParser(HTMLParser):
    """What a browser would submit for the admin's change form (id ``*_form``), without any submit button."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self.in_form = False
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file") or (kind in ("checkbox", "radio") and "checked" not in a):
                return
            self.data.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select, self.select_first, self.select_chosen = a["name"], None, False
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.data.append((self.select, value))
                self.select_chosen = True
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select" and self.select is not None:
            if not self.select_chosen and self.select_first is not None:
                self.data.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.data.append((self.textarea, self.text.lstrip("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.text += data


def form_data(html: str) -> dict:
    parser = _FormParser()
    parser.feed(html)
    data: dict = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


def submit(client, url: str, changes: dict | None = None, **kwargs):
    """GET the admin form at ``url`` and POST it back as a browser would, with ``changes`` applied."""
    page = client.get(url)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    data = form_data(page.content.decode())
    data.update(changes or {})
    return client.post(url, {k: v for k, v in data.items() if v is not None}, **kwargs)
