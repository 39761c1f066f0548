"""With DEBUG off the settings refuse a missing or default SECRET_KEY."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_settings(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "env",
    [
        {"DEBUG": "0"},
        {},
        {"DEBUG": "0", "SECRET_KEY": ""},
        {"DEBUG": "0", "SECRET_KEY": "django-insecure-development-only-key-change-me"},
        {"DEBUG": "false", "SECRET_KEY": "django-insecure-abc"},
    ],
)
def test_refuses_to_start_without_a_real_key(env):
    result = import_settings(**env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_starts_with_a_real_key():
    result = import_settings(DEBUG="0", SECRET_KEY="k3y-" + "x" * 60)
    assert result.returncode == 0, result.stderr


def test_debug_allows_the_development_key():
    result = import_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr


def settings_value(expression: str, *, unset: tuple[str, ...] = (), **env_overrides) -> str:
    """``expression`` (over ``settings``) printed by a fresh process with DEBUG=1, ``unset`` variables removed and
    ``env_overrides`` set."""
    env = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", f"from config import settings; print({expression})"],
        cwd=ROOT,
        env={**env, "DEBUG": "1", **env_overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def database_options(**env_overrides) -> str:
    return settings_value("settings.DATABASES['default'].get('OPTIONS')", **env_overrides)


def test_postgresql_connections_run_without_jit():
    """JIT compiles queries the planner overestimates: 200 ms on the metrics' 35 ms customers query at 1M issues."""
    assert "-c jit=off" in database_options(DATABASE_URL="postgres://u@db.example:5432/backoffice")
    assert "jit" not in database_options(DATABASE_URL="postgres://u@db.example:5432/backoffice", PG_JIT="on")
    assert "jit" not in database_options(DATABASE_URL="sqlite:///x.sqlite3")


def test_jit_off_keeps_options_from_the_database_url():
    options = database_options(DATABASE_URL="postgres://u@db.example:5432/backoffice?options=-c%20work_mem%3D64MB")
    assert "-c work_mem=64MB -c jit=off" in options


@pytest.mark.django_db
@pytest.mark.postgres("jit is a PostgreSQL setting")
def test_the_database_session_has_jit_off():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
