"""config.wsgi freezes what loading the application made (the collector then never walks it again)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_wsgi_application_freezes_its_objects():
    code = "import gc\nassert gc.get_freeze_count() == 0\nimport config.wsgi\nprint(gc.get_freeze_count())\n"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "config.test_settings", "PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50},
    )
    assert int(out.stdout.strip().splitlines()[-1]) > 50_000, out.stdout
