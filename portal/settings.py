"""Settings for the webhooks portal and its embedded management API.

Every value comes from the environment through django-environ; `.env.example` lists them all.
The variables and their defaults follow ../shared/reference/management-api.md.
"""

import os
import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


# --- Generated once, kept ---------------------------------------------------------------------
# The contract forbids constant credentials in the repository, and a fresh machine must run with
# nothing set. So whatever is unset is generated on first start into var/generated.env (mode 0600,
# git-ignored) and read from there ever after; a real environment variable always wins.
GENERATED_ENV_FILE = VAR_DIR / "generated.env"
GENERATED_NAMES = ("SECRET_KEY", "AUTOQL_SANDBOX_API_KEY", "AUTOQL_PRODUCTION_API_KEY", "AUTOQL_TOKEN")


def _ensure_generated_env_file() -> None:
    VAR_DIR.mkdir(exist_ok=True)
    lines = [f"{name}={secrets.token_urlsafe(32)}\n" for name in GENERATED_NAMES]
    try:
        # O_EXCL: two processes starting at once (web server and worker) must not both write it.
        fd = os.open(GENERATED_ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write("# Generated once by portal/settings.py; delete it to generate new credentials.\n")
        f.writelines(lines)


_ensure_generated_env_file()
environ.Env.read_env(GENERATED_ENV_FILE, overwrite=False)


# --- Django core --------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The portal reaches the embedded API in-process under this host name (webhooks_app/client.py).
# A .invalid name (RFC 2606) never resolves, so it names no real site.
EMBEDDED_API_HOST = "autoql-embedded.invalid"
ALLOWED_HOSTS.append(EMBEDDED_API_HOST)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    # Before django_tasks_db: its db_worker command is extended in management_api.
    "management_api",
    "webhooks_app",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: load balancers probe /healthz and /readyz by address over plain HTTP.
    "management_api.health.HealthChecksMiddleware",
    # Outermost, so that every error under the API's path gets the API's JSON error body.
    "management_api.middleware.JsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "webhooks_app.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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


# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database: the tests start real worker processes on it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    # The web server and the delivery worker write to one file at once: wait for the lock rather
    # than fail with "database is locked", and take it at BEGIN so a reader never has to upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
CSRF_FAILURE_VIEW = "webhooks_app.errors.csrf_failure"


# --- HTTPS --------------------------------------------------------------------------------------
# On by default whenever DEBUG is off; turn them off explicitly for plain HTTP on a trusted network.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"


# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True


# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Not the manifest storage: it refuses to render any page until collectstatic has run, and
    # the tests and a first checkout serve straight from static/.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from static/ when collectstatic has not run (tests, a first checkout).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


# --- Management API (the portal's side) ---------------------------------------------------------
AUTOQL_DOMAIN = env.str("AUTOQL_DOMAIN", default="").rstrip("/")
AUTOQL_SANDBOX_API_KEY = env.str("AUTOQL_SANDBOX_API_KEY")
AUTOQL_PRODUCTION_API_KEY = env.str("AUTOQL_PRODUCTION_API_KEY")
AUTOQL_TOKEN = env.str("AUTOQL_TOKEN")
# How long the portal waits for the management API: connect, then read, in seconds.
AUTOQL_API_TIMEOUT = (5.0, env.float("AUTOQL_API_TIMEOUT", default=20.0))


# --- Webhook delivery (the embedded API's side) -------------------------------------------------
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_RETRY_SCHEDULE = env.list("WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000])
# One delivery attempt never takes longer than this, connect and body included.
WEBHOOK_DELIVERY_DEADLINE = env.float("WEBHOOK_DELIVERY_DEADLINE", default=10.0)
# Receivers' answers are stored for the logs; a larger body is cut at this many bytes.
WEBHOOK_RESPONSE_MAX_BYTES = 64 * 1024
# A webhook failing with no success for this long is disabled until a manager enables it again.
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=5.0)
# How often each worker looks for deliveries cut off by a worker that died, in seconds.
WEBHOOK_RECOVERY_INTERVAL = env.float("WEBHOOK_RECOVERY_INTERVAL", default=30.0)


# --- Operations: retention, health checks, metrics --------------------------------------------
# Log rows older than this many days are removed (oldest first, in small batches) by the worker.
WEBHOOK_LOG_RETENTION_DAYS = env.float("WEBHOOK_LOG_RETENTION_DAYS", default=90.0)
# Finished queue task results older than this many days are removed too.
TASK_RESULT_RETENTION_DAYS = env.float("TASK_RESULT_RETENTION_DAYS", default=7.0)
# How often each worker runs that retention pass, in seconds.
WEBHOOK_RETENTION_INTERVAL = env.float("WEBHOOK_RETENTION_INTERVAL", default=3600.0)
# /readyz answers 503 when the oldest due delivery has waited longer than this, in seconds.
READYZ_MAX_QUEUE_LAG = env.float("READYZ_MAX_QUEUE_LAG", default=300.0)
# Bearer token Prometheus sends to /metrics; empty turns /metrics off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")


# --- Tasks (delivery queue) ---------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}


# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
