"""Test settings: fast hashing, in-memory mail, tasks run immediately after commit."""

import os

os.environ["SECRET_KEY"] = "test-only-secret-key-not-for-production-5b1c0e7f"

from config.settings import *  # noqa: E402,F403
from config.settings import DATABASES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SIMULATED_REFUND_FAILURE_RATE = 0.0
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# --- Hardening (docs/operations.md) ---
# Tests drive many writes quickly; the throttle tests set their own rate.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"writes": "1000000/min"}  # noqa: F405
# --- end hardening ---
