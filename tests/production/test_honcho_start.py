"""``honcho start`` on a fresh database runs the whole production shape, as docs/operations.md says: the release
step migrates and stays up, the other processes wait for it, then web answers /readyz 200 and all five keep
running until stopped. PostgreSQL and Redis only (the shape's settings); about half a minute."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.redis_helpers import require_redis

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("SHAPE_REDIS_URL", "redis://127.0.0.1:6379/13")

pytestmark = pytest.mark.postgres("the production shape runs on PostgreSQL")


def _ready(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def test_honcho_start_on_a_fresh_database_runs_every_process(tmp_path):
    require_redis(REDIS, "honcho start against the production shape is not run")
    db = settings.DATABASES["default"]
    name = f"honcho_{uuid.uuid4().hex[:8]}"
    base = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    subprocess.run(["createdb", f"--maintenance-db={base}/postgres", name], check=True)
    port = 18000 + os.getpid() % 1000
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text() + f"\nDATABASE_URL={base}/{name}\nREDIS_URL={REDIS}\n")
    honcho = Path(sys.executable).with_name("honcho")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PORT": str(port)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [str(honcho), "-e", str(env_file), "-d", str(ROOT), "-f", str(ROOT / "Procfile"), "start", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out = ""
    try:
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and proc.poll() is None and ready is None:
            time.sleep(1)
            ready = _ready(port)
        if proc.poll() is not None:
            out = proc.communicate()[0]
        assert proc.poll() is None, f"honcho stopped: one process exited\n{out[-3000:]}"
        assert ready is not None, "web did not answer /readyz on $PORT within 120 s"
        assert ready == {"status": "ready", "checks": dict.fromkeys(ready["checks"], "ok")}, ready
        time.sleep(3)  # the worker, dispatcher and scheduler have started; none has exited
        assert proc.poll() is None, "honcho stopped: one process exited"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                out = proc.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out = proc.communicate()[0]
        subprocess.run(["dropdb", f"--maintenance-db={base}/postgres", "--if-exists", "--force", name], check=False)
    for process in ("release", "web", "worker", "dispatcher", "scheduler"):
        assert f"{process}." in out, (process, out[-3000:])
    assert "Released: migrations applied" in out
    assert "Staying up" in out
