"""Settings, read from the environment. Production-safe by default; `make run` sets DEBUG=1."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.log_format import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    import os

    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env(name: str, default: str | None = None) -> str | None:
    import os

    return os.environ.get(name, default)


INSECURE_DEFAULT_SECRET_KEY = "django-insecure-development-only-key-change-me"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY") or INSECURE_DEFAULT_SECRET_KEY
if not DEBUG and (SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be set to a real secret when DEBUG is off.")

ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS") or ("*" if DEBUG else "")).split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in (env("CSRF_TRUSTED_ORIGINS") or "").split(",") if o.strip()]

INSTALLED_APPS = [
    # django-unfold dresses the admin (docs/admin.md); it must come before django.contrib.admin, whose templates
    # it overrides. Its basic app config leaves admin.site alone: the project's admin config makes it a
    # config.admin_site.DeskAdminSite (Unfold's site, with the app list remembered per viewer's permissions).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "config.admin_site.DeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "django_fsm",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "config",
    "orders",
    "issues",
    "appeasements",
    "returns",
    "webhooks",
    "desk",  # the top app: cross-app admin pages, the dashboard, the seeders; no other app imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
    )
}
# Read replica (config/db_router.py): the dashboard, the metrics' gauges and the read-only API lists read from it.
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env("DATABASE_REPLICA_URL"), conn_max_age=int(env("CONN_MAX_AGE", "60"))
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read the primary through the replica's alias
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
for _database in DATABASES.values():
    if _database["ENGINE"].endswith("postgresql") and env("PG_JIT", "off") == "off":
        # PostgreSQL's JIT compiles any query the planner *estimates* above jit_above_cost. The issue metrics' top
        # customers query is estimated at millions of rows (the delta table's statistics still count rows that
        # compaction folded away) and runs in 35 ms, after 200 ms of JIT compilation at 1M issues. The back office
        # runs short indexed queries, where JIT only adds compile time. PG_JIT=on leaves the server's setting.
        options = _database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
# The desk speaks English only: the admin (Unfold) builds its language menu from this list on every page, and
# Django's hundred languages cost 6 ms a page for a menu that is not shown.
LANGUAGES = [("en", "English")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"
# django-unfold's login form has no hidden "next" field (Django's has one naming the admin's index): without this a
# login from /admin/login/ would land on Django's default /accounts/profile/, a 404 (tests/admin/test_workspace.py).
LOGIN_REDIRECT_URL = "admin:index"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "backoffice@example.com")

# --- Security (production defaults; DEBUG relaxes them) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["config.api.renderers.MoneyJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.DecimalJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Order back office API",
    "DESCRIPTION": (
        "Back-office API (`/api/v1/`, snake_case, `{success, message, error_code}` errors), "
        "the fabric-compatible order API (`/api-order/`) and the commerce-agent appeasement API (`/ccagent/v1/`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"FabricOrderStatusEnum": "returns.fabric.statuses.FABRIC_ORDER_STATUSES"},
}

# --- Background work (django-tasks, database backend; `manage.py db_worker`) ---
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Domain settings ---
DEFAULT_ACCOUNT_ID = env("DEFAULT_ACCOUNT_ID", "5e3598e3007c5e00080d2bb8")
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "USD")
# Dotted path of the processor that sends non-store-credit refunds to the payment provider.
REFUND_PROCESSOR = env("REFUND_PROCESSOR", "orders.refund_processors.SimulatedRefundProcessor")
# Share (0..1) of simulated refunds that fail; the demo can set it to show failed refunds.
SIMULATED_REFUND_FAILURE_RATE = float(env("SIMULATED_REFUND_FAILURE_RATE", "0"))
# retry_stuck_refunds sends again refunds left pending or processing longer than this (their job or worker lost).
REFUNDS_STUCK_AFTER_MINUTES = float(env("REFUNDS_STUCK_AFTER_MINUTES", "15"))
# send_pending_notifications e-mails notifications of the last day not e-mailed this long after (job lost).
NOTIFICATIONS_RESEND_AFTER_MINUTES = float(env("NOTIFICATIONS_RESEND_AFTER_MINUTES", "15"))

# simple-history: never let "revert" bypass the workflow on FSM models (see DESIGN rule 4).
SIMPLE_HISTORY_REVERT_DISABLED = True

# Logs (docs/operations.md, "Logs"): JSON lines with timestamp, level, request id, employee and latency
# (django-structlog, config/request_logging.py); LOG_FORMAT=console for readable lines (the default with DEBUG).
LOG_FORMAT = env("LOG_FORMAT", "console" if DEBUG else "json")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'console'")
LOGGING = logging_config(level=env("LOG_LEVEL", "INFO"), json=LOG_FORMAT == "json")
INSTALLED_APPS += ["django_structlog"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "config.request_logging.RequestLogMiddleware",
)
DJANGO_STRUCTLOG_USER_ID_FIELD = "username"  # the employee id
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # RequestLogMiddleware checked it (or made one) first
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = 10  # DEBUG: request_finished (with the latency) says it all

# --- The admin's face (django-unfold; docs/admin.md) ---
UNFOLD = {
    "SITE_TITLE": "Order back office",
    "SITE_HEADER": "Order back office",
    "SITE_SUBHEADER": "Support desk",
    "SITE_SYMBOL": "support_agent",
    "SITE_URL": "/admin/",
    # A callable, not the string: Unfold tries every string value as an import path first, and "/favicon.ico"
    # looks like one (module "/favicon"), so each page searched sys.path for it (about 2 ms a page).
    "SITE_FAVICONS": [{"rel": "icon", "sizes": "32x32", "type": "image/png", "href": lambda request: "/favicon.ico"}],
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_HISTORY": True,
    "BORDER_RADIUS": "6px",
    "STYLES": ["config.admin_assets.styles"],
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": True,
        "navigation": "desk.sidebar.navigation",
    },
}

# --- Appeasements (docs/api/ccagent.md) ---
# Share (0..1) of the order total above which a submitted appeasement needs a manager's approval.
APPEASEMENT_POLICY_SHARE = float(env("APPEASEMENT_POLICY_SHARE", "0.20"))
# The appeasement validation webhook (docs/api/ccagent.md: 900015/900016); empty: no validation call.
APPEASEMENT_VALIDATION_URL = env("APPEASEMENT_VALIDATION_URL", "") or ""
APPEASEMENT_VALIDATION_TIMEOUT = float(env("APPEASEMENT_VALIDATION_TIMEOUT", "5"))
# Site ids accepted in the optional x-ccsite header of /ccagent/ (30014 for any other).
CCAGENT_SITES = [s.strip() for s in (env("CCAGENT_SITES") or "siteUS").split(",") if s.strip()]
# OpenAPI: the appeasement states are one named enum.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["AppeasementStateEnum"] = "appeasements.models.AppeasementState"
# --- end appeasements ---

# --- SLA (docs/admin.md) ---
# Targets per issue priority, in hours: to the first response (a note or status move after the issue was
# opened) and to resolution. Time waiting on the customer (a follow-up scheduled) stops the resolution clock;
# time escalated to a manager does not. Override one with e.g. SLA_CRITICAL_RESOLUTION_HOURS=4.
_SLA_DEFAULTS = {"critical": (1, 8), "high": (4, 24), "medium": (8, 72), "low": (24, 168)}
SLA_TARGETS = {
    priority: {
        "first_response_hours": float(env(f"SLA_{priority.upper()}_FIRST_RESPONSE_HOURS", str(first))),
        "resolution_hours": float(env(f"SLA_{priority.upper()}_RESOLUTION_HOURS", str(resolution))),
    }
    for priority, (first, resolution) in _SLA_DEFAULTS.items()
}
# "Breaching soon": the clock runs out within this many minutes.
SLA_BREACHING_SOON_MINUTES = int(env("SLA_BREACHING_SOON_MINUTES", "60"))
# --- end SLA ---

# --- Hardening (docs/operations.md) ---
# Admin login: django-axes locks a username+IP after AXES_FAILURE_LIMIT failed logins for the cool-off.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.auth_backends.OnBehalfPermissions",  # on-behalf writes: no permission only managers hold
    "config.auth_backends.EmployeeBackend",  # ModelBackend, permissions in one query
]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(env("AXES_PROXY_COUNT", "0")) or None
# API writes: throttled per caller (config.api.throttles); 429 in the path's dialect.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["config.api.throttles.WriteRateThrottle"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"writes": env("API_WRITE_RATE", "120/min")}
# Lists: unknown, empty or malformed filter parameters are a 400, never silently ignored.
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = ["config.api.filters.StrictFilterBackend"]
# Idempotency-Key answers are kept this long (manage.py prune_idempotency_keys deletes older ones).
IDEMPOTENCY_KEY_TTL_HOURS = float(env("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
# Production security: load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
# OpenAPI: one name per choice set (check --deploy runs the schema checks too).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["OrderStatusEnum"] = "orders.models.OrderStatus"
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "config.api.schema_hooks.document_pagination_errors",
]
# --- end hardening ---

# --- Webhooks (docs/api/webhooks.md) ---
# Task backend: the database (default; `manage.py db_worker`) or RQ on Redis (TASKS_BACKEND=rq;
# `manage.py rqworker --job-class django_tasks_rq.Job --with-scheduler default`; the scheduler runs retries).
TASKS_BACKEND = env("TASKS_BACKEND", "db")
REDIS_URL = env("REDIS_URL", "") or ""
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 600}}
# Shared state for shared limits (docs/operations.md): with REDIS_URL set, the cache (the API write throttle's
# counts) is Redis, one for every process of every node; without it each process counts alone (one node only).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "backoffice",
            # a Redis that does not answer costs a write one second at most (the throttle then lets it through)
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
if TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND != "db":
    raise ImproperlyConfigured("TASKS_BACKEND must be 'db' or 'rq'")
RQ_SHOW_ADMIN_LINK = False
# A 2xx answer within this many seconds is a delivery.
WEBHOOKS_TIMEOUT_SECONDS = float(env("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# Retries: base * 2^(attempt-1) seconds, capped, with jitter (50-100%), for this many hours; then failed.
WEBHOOKS_RETRY_BASE_SECONDS = float(env("WEBHOOKS_RETRY_BASE_SECONDS", "30"))
WEBHOOKS_RETRY_MAX_SECONDS = float(env("WEBHOOKS_RETRY_MAX_SECONDS", str(3 * 3600)))
WEBHOOKS_RETRY_WINDOW_HOURS = float(env("WEBHOOKS_RETRY_WINDOW_HOURS", "24"))
# A subscription is disabled (and managers told) after this many deliveries in a row finally failed.
WEBHOOKS_DISABLE_AFTER_FAILURES = int(env("WEBHOOKS_DISABLE_AFTER_FAILURES", "5"))
# After a rotation the old secret signs beside the new one for this long.
WEBHOOKS_SECRET_GRACE_HOURS = float(env("WEBHOOKS_SECRET_GRACE_HOURS", "24"))
# Plain http and loopback receivers (development, tests; on with DEBUG). Private networks are always refused.
WEBHOOKS_ALLOW_INSECURE = env_bool("WEBHOOKS_ALLOW_INSECURE", DEBUG)
# A worker holds a delivery this long; if it dies, the delivery is picked up again after it (> the timeout).
WEBHOOKS_LEASE_SECONDS = int(env("WEBHOOKS_LEASE_SECONDS", "60"))
# How much of the receiver's answer the delivery log keeps.
WEBHOOKS_RESPONSE_EXCERPT = 500
# --- end webhooks ---

# --- API boundary (docs/adr/0012-api-input-boundary.md) ---
# Under /api/, /api-order/ and /ccagent/, before any work (config.api.middleware, config.api.parsers): a body
# over API_MAX_BODY_BYTES is a 413; JSON (a body, the x-site-context header) nested deeper than
# API_MAX_JSON_DEPTH levels a 400; a control character in the path a 404, in a header or a query parameter a
# 400 naming it; every error answer is JSON in the path's dialect (500s: ccagent 900001 for a database error,
# 900000 otherwise).
API_MAX_BODY_BYTES = int(env("API_MAX_BODY_BYTES", str(256 * 1024)))
API_MAX_JSON_DEPTH = 32  # fixed: the bodies of the three dialects nest a few levels (an object of lists of objects)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "config.api.middleware.ApiBoundaryMiddleware"
)
CSRF_FAILURE_VIEW = "config.api.exception_handler.csrf_failure"  # JSON under the API prefixes, HTML elsewhere
# API docs without a CDN: Swagger UI (/api/docs/) and ReDoc (/api/redoc/) from our static files (whitenoise
# serves them: from the apps' folders with DEBUG, from STATIC_ROOT after collectstatic without it).
INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"
SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"
SPECTACULAR_SETTINGS["REDOC_DIST"] = "SIDECAR"
# No call to the public validator (validator.swagger.io) from the docs page.
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
# The schema documents the boundary's answers (413, 400, 404, 500) on every operation, in its dialect.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    *SPECTACULAR_SETTINGS.get("POSTPROCESSING_HOOKS", ["drf_spectacular.hooks.postprocess_schema_enums"]),
    "config.api.schema_hooks.document_boundary_errors",
]
# --- end API boundary ---

# --- Metrics (docs/operations.md, "Metrics") ---
# GET /metrics: django-prometheus's request metrics plus the business gauges (desk/metrics.py); 404 unless
# METRICS_TOKEN is set, then 401 without "Authorization: Bearer <METRICS_TOKEN>". Under gunicorn the worker
# processes share their counts through PROMETHEUS_MULTIPROC_DIR (config/gunicorn.conf.py sets it).
METRICS_TOKEN = env("METRICS_TOKEN", "") or ""
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # set for every process (an environment file shared by web, worker, scheduler): prometheus_client writes its
    # counts there from the first metric on and crashes the process when the folder does not exist yet
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE = ["django_prometheus.middleware.PrometheusBeforeMiddleware", *MIDDLEWARE]
MIDDLEWARE += ["django_prometheus.middleware.PrometheusAfterMiddleware"]
SECURE_REDIRECT_EXEMPT += [r"^metrics$"]  # scraped over the private network, like the probes
# --- end metrics ---

# --- Scheduler (docs/operations.md, "Processes") ---
# manage.py scheduler runs these commands, each every so many seconds across all copies (config/scheduler.py).
# name -> (command, arguments, seconds); SCHEDULE_<NAME>_SECONDS overrides an interval, e.g.
# SCHEDULE_STUCK_REFUNDS_SECONDS=60.
_SCHEDULE = {
    "follow_up_reminders": ("send_follow_up_reminders", [], 300),
    "pending_notifications": ("send_pending_notifications", [], 300),
    "stuck_refunds": ("retry_stuck_refunds", [], 300),
    "appeasement_refunds": ("sync_appeasement_refunds", [], 300),
    "issue_metrics_compact": ("issue_metrics_compact", [], 300),
    "prune_idempotency_keys": ("prune_idempotency_keys", [], 86400),
    "webhooks_prune": ("webhooks_prune", ["--days", "30"], 86400),
}
SCHEDULER_JOBS = {
    name: (command, args, float(env(f"SCHEDULE_{name.upper()}_SECONDS", str(seconds))))
    for name, (command, args, seconds) in _SCHEDULE.items()
}
# --- end scheduler ---
