"""The README's pictures, taken by the browser tests (docs/admin.md, "Proven in a browser").

Every run copies them to ``test-results/screenshots/`` (ignored by git); only ``UPDATE_SCREENSHOTS=1`` also
writes them over ``docs/screenshots/``, so an ordinary test run leaves the git tree as it found it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
UPDATE_VARIABLE = "UPDATE_SCREENSHOTS"


def updating_docs() -> bool:
    return os.environ.get(UPDATE_VARIABLE, "") == "1"


def publish(pictures: dict[Path, str], *, results: Path = RESULTS, docs: Path = DOCS) -> list[Path]:
    """Copy each screenshot (path -> picture name) to ``results``, and to ``docs`` when UPDATE_SCREENSHOTS=1.
    Returns the files written."""
    folders = [results, docs] if updating_docs() else [results]
    written = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for source, name in pictures.items():
            shutil.copy(source, folder / name)
            written.append(folder / name)
    return written
