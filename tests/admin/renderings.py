"""For the tests of the admin's HTML rendered in Python: record it beside what the templates render."""

import pytest


def both_renderings(module, name: str, slow):
    """A fixture that patches ``module.name`` (a renderer in Python that returns HTML, or None to leave it to the
    templates) to also render ``slow(*args)`` (the templates) with the same arguments, and gives the (fast, slow)
    pairs as they come."""

    @pytest.fixture
    def renderings(monkeypatch) -> list[tuple]:
        seen = []
        fast = getattr(module, name)

        def both(*args):
            html = fast(*args)
            seen.append((html, slow(*args)))
            return html

        monkeypatch.setattr(module, name, both)
        return seen

    return renderings
