"""The Procfile names the production shape; every command in it exists; docs/operations.md lists every setting
the code reads from the environment."""

from __future__ import annotations

import re
import runpy
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_has_the_five_processes_and_their_commands_exist():
    processes = procfile()
    assert set(processes) == {"release", "web", "worker", "dispatcher", "scheduler"}
    commands = get_commands()
    for line in processes.values():
        for part in line.split("&&"):
            words = [w for w in shlex.split(part) if w != "exec"]
            if words[:2] == ["python", "manage.py"]:
                assert words[2] in commands, part
    assert processes["release"] == "python manage.py release"
    for name in ("web", "worker", "dispatcher", "scheduler"):  # none starts before the release step migrated
        assert processes[name].startswith("python manage.py wait_for_migrations && exec "), name
    assert processes["web"].endswith("exec gunicorn -c config/gunicorn.conf.py config.wsgi")


def test_the_release_step_migrates_and_collects_the_static_files(db, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    out = StringIO()
    call_command("release", stdout=out)
    assert "Released" in out.getvalue()
    assert (tmp_path / "static" / "admin").is_dir()  # collected
    assert "Staying up" not in out.getvalue()  # a platform's release phase exits


def test_waiting_for_the_migrations_returns_once_applied_and_fails_after_its_timeout(db, monkeypatch):
    call_command("wait_for_migrations", timeout=1)  # applied (the test database): at once

    def not_yet():
        raise RuntimeError("3 migration(s) not applied")

    monkeypatch.setattr("config.management.commands.wait_for_migrations.check_migrations", not_yet)
    err = StringIO()
    with pytest.raises(CommandError, match="not applied within 1 s"):
        call_command("wait_for_migrations", timeout=1, stderr=err)
    assert "Waiting for the release step: 3 migration(s) not applied" in err.getvalue()


def test_the_gunicorn_settings_load_and_share_metrics_between_workers(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "18123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prom"))
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert conf["bind"] == "0.0.0.0:18123"
    assert conf["workers"] == 3
    (tmp_path / "prom").mkdir()
    (tmp_path / "prom" / "counter_1.db").write_bytes(b"old")
    conf["on_starting"](None)
    assert list((tmp_path / "prom").iterdir()) == []  # an earlier run's counts are not added to this one's


def test_every_environment_setting_is_in_the_operations_table():
    code = "\n".join(p.read_text() for p in [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.conf.py"])
    names = set(re.findall(r"""env(?:_bool)?\(\s*f?["']([A-Z][A-Z0-9_]+)["']""", code))
    names |= set(re.findall(r"""os\.environ\.get\(["']([A-Z][A-Z0-9_]+)["']""", code))
    names -= {"PROMETHEUS_MULTIPROC_DIR"}  # documented in its own row too, but set by gunicorn's settings
    table = (ROOT / "docs" / "operations.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in table and f"`{name}`," not in table)
    assert missing == []
