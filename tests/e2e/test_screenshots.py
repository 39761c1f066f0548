"""The browser tests leave docs/screenshots/ alone unless asked (UPDATE_SCREENSHOTS=1): a test run keeps the git
tree clean, and the README's pictures change only when someone refreshes them on purpose."""

from tests.e2e.screenshots import publish


def picture(tmp_path):
    source = tmp_path / "taken" / "01-index-1280.png"
    source.parent.mkdir()
    source.write_bytes(b"png")
    return source


def test_screenshots_go_to_test_results_only_by_default(tmp_path, monkeypatch):
    # given
    monkeypatch.delenv("UPDATE_SCREENSHOTS", raising=False)
    results, docs = tmp_path / "test-results", tmp_path / "docs"
    docs.mkdir()
    (docs / "index.png").write_bytes(b"committed")
    # when
    publish({picture(tmp_path): "index.png"}, results=results, docs=docs)
    # then
    assert (results / "index.png").read_bytes() == b"png"
    assert (docs / "index.png").read_bytes() == b"committed"


def test_update_screenshots_refreshes_the_docs_pictures(tmp_path, monkeypatch):
    # given
    monkeypatch.setenv("UPDATE_SCREENSHOTS", "1")
    results, docs = tmp_path / "test-results", tmp_path / "docs"
    # when
    publish({picture(tmp_path): "index.png"}, results=results, docs=docs)
    # then
    assert (results / "index.png").read_bytes() == b"png"
    assert (docs / "index.png").read_bytes() == b"png"
