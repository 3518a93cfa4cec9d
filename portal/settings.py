"""Settings for the webhooks portal and its embedded management API.

Every value comes from the environment through django-environ; `.env.example` lists them all.
The API they configure is described in docs/api.md.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    # Parsed once here, so that a typo stops the server with its name instead of failing every request.
    networks = []
    for entry in env.list(name, default=[]):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not a network; write CIDRs separated by commas, e.g. 10.0.0.0/8,fd00::/8"
            ) from None
    return networks


# --- Credentials ---------------------------------------------------------------------------------
# The contract forbids constant credentials in the repository, and a fresh machine must run with
# nothing set. So `manage.py generate_credentials` (which `make run` calls) writes whatever is
# unset into var/generated.env (mode 0600, in var/ of mode 0700, git-ignored) once; they are read
# from there ever after, and a real environment variable always wins. Importing the settings only
# reads: a credential still missing is reported by `manage.py check` (portal/credentials.py).
GENERATED_ENV_FILE = VAR_DIR / "generated.env"
# Known before the file is read into the environment: rotate_encryption_key then updates the file.
FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = "FIELD_ENCRYPTION_KEYS" not in os.environ
if GENERATED_ENV_FILE.is_file():
    environ.Env.read_env(GENERATED_ENV_FILE, overwrite=False)


# --- Django core --------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
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
    "management_api",
    "webhooks_app",
    "demo_receiver",
    "axes",
    "django_ratelimit",
    # After axes: its failed sign-in handler must mark a locked-out request before audit reads it.
    "audit",
    # Single sign-on: OpenID Connect, LDAP, roles from groups, the sign-in and sign-out pages.
    "identity",
]

MIDDLEWARE = [
    # First: load balancers probe /healthz and /readyz by address over plain HTTP.
    "management_api.health.HealthChecksMiddleware",
    # Outermost, so that every error under the API's path gets the API's JSON error body.
    "management_api.middleware.JsonErrorsMiddleware",
    "management_api.middleware.ApiRateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Inside the sessions' middleware, which saves what this one marks on the way out.
    "portal.middleware.SessionIdleRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whatever a request changes is recorded as its signed-in person's (audit/trail.py).
    "audit.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After htmx's: a request htmx makes once the session has ended goes to the sign-in page whole.
    "portal.middleware.HtmxSignInRedirectMiddleware",
    "webhooks_app.middleware.ContentSecurityPolicyMiddleware",
    # Inside the CSP and JSON errors, before any view or CSRF check reads the body.
    "portal.middleware.RequestBodyGuardMiddleware",
    # A secret FIELD_ENCRYPTION_KEYS cannot decrypt, met by a page: 503 and what to do, not a 500.
    "management_api.middleware.UndecryptableSecretMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into identity.signin.locked_out.
    "axes.middleware.AxesMiddleware",
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
                "demo_receiver.context_processors.demo_receiver",
            ],
        },
    },
    {
        # Only for what a page repeats a hundred times (the logs table's rows, rendered by the
        # log_rows tag): Django's engine spent most of the tab's time there. Templates in <app>/jinja2/.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": True},
    },
]


# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the delivery worker write to one file at once: wait for the lock rather
    # than fail with "database is locked", and take it at BEGIN so a reader never has to upgrade.
    # In WAL mode, synchronous=NORMAL syncs at checkpoints instead of on every commit: the file
    # cannot be corrupted, only the last commits lost on a power cut (not on a crash), and every
    # commit (each page view saves its session, each attempt its log row) stops waiting on the disk.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # A web thread keeps its PostgreSQL connection between requests instead of opening one for each
    # (a new backend costs a few milliseconds, more than the write an API call makes), and checks it
    # before reusing it after an error. `?conn_max_age=` in DATABASE_URL overrides it; 0 opens one
    # per request again. Each gunicorn thread holds at most one: see "Several machines" for sizing
    # max_connections.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
# Where `manage.py offer_first_login` keeps the first admin's password (owner-only, 0600) until it
# is changed: printed in the terminal it would scroll away, or stay in a log.
# A relative path is under the project folder.
FIRST_LOGIN_FILE = BASE_DIR / env.str("FIRST_LOGIN_FILE", default="var/first-login.txt")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
CSRF_FAILURE_VIEW = "webhooks_app.errors.csrf_failure"

# Sign-in lockout (django-axes): this many wrong passwords for one username from one address lock
# that pair out for AXES_COOLOFF_MINUTES. By the pair, so that nobody can lock a colleague out from
# elsewhere, and one address guessing at one account is stopped. A success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Not its start-up banner in every process's output (make run's, each command's).
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "identity.signin.locked_out"
# The client's address as the audit trail and the rate limits see it (TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "portal.addresses.client_address"
RATELIMIT_IP_META_KEY = "portal.addresses.client_address"
# A username that names no user is often a password typed in the wrong box: axes counts, stores and
# logs it as "unknown user" (all such attempts from one address together), as the audit trail does.
AXES_USERNAME_CALLABLE = "audit.signals.attempted_username"
# django-axes stores the query of a failed sign-in: a refused single sign-on's callback carries the
# provider's authorization code, masked like a password (the others are its defaults).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# A session ends after this long without a request; a request moves the end forward (saving the
# session at most once a minute: portal.middleware.SessionIdleRefreshMiddleware).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=60)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60

# Email: password reset, and the alerts to managers about failing webhooks. Without EMAIL_URL the
# reset pages are 404, the sign-in page says to ask an administrator (identity/signin.py), and
# alerts are written to the process log (the console backend) instead of being sent.
if env.str("EMAIL_URL", default=""):
    # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ... as django-environ reads them from the URL.
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_HOST = ""
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webhooks-portal@localhost")
# Where managers reach this portal, for the links in alert emails.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")


# --- Single sign-on (identity/; README "Single sign-on") ---------------------------------------
# OpenID Connect (authorization code flow with PKCE, through mozilla-django-oidc): the issuer's
# discovery document ({OIDC_ISSUER}/.well-known/openid-configuration) is fetched at the first
# sign-in, never here, so that a provider that is down cannot stop the portal from starting.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
# The claim (of the ID token or the userinfo answer) that lists the person's groups.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
# The text of the sign-in page's button.
OIDC_LABEL = env.str("OIDC_LABEL", default="Sign in with single sign-on")
# Seconds the portal waits for each call to the provider (discovery, token, keys, userinfo).
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)

# LDAP or Active Directory, through django-auth-ldap: the sign-in page's password form checks the
# password against the directory. django-auth-ldap is imported only when LDAP_SERVER_URI is set
# (requirements-ldap.txt installs it; `manage.py check` says so when it is missing).
LDAP_SERVER_URI = env.str("LDAP_SERVER_URI", default="")
# The account the portal binds as to search for people and groups; both empty = an anonymous bind.
LDAP_BIND_DN = env.str("LDAP_BIND_DN", default="")
LDAP_BIND_PASSWORD = env.str("LDAP_BIND_PASSWORD", default="")
# Base DN under which people are searched (whole subtree), with this filter; %(user)s is the name typed.
LDAP_USER_SEARCH = env.str("LDAP_USER_SEARCH", default="")
LDAP_USER_FILTER = env.str("LDAP_USER_FILTER", default="(uid=%(user)s)")
# Base DN under which groups (groupOfNames, or Active Directory's group) are searched, by member.
LDAP_GROUP_SEARCH = env.str("LDAP_GROUP_SEARCH", default="")
# Upgrade the connection to TLS (StartTLS) before binding; LDAP_CA_FILE names the CA to trust, if
# not the system's.
LDAP_START_TLS = env.bool("LDAP_START_TLS", default=False)
LDAP_CA_FILE = env.str("LDAP_CA_FILE", default="")

# Roles from groups (comma-separated group names: the OpenID Connect groups claim's values, or the
# LDAP groups' common names; compared without regard to case), applied at every single sign-on.
# Someone in none of them is refused. A manager may change webhooks; staff may open /admin/.
SSO_MANAGER_GROUPS = env.list("SSO_MANAGER_GROUPS", default=[])
SSO_VIEWER_GROUPS = env.list("SSO_VIEWER_GROUPS", default=[])
SSO_STAFF_GROUPS = env.list("SSO_STAFF_GROUPS", default=[])

# The sign-in page's password form for local accounts; false (with single sign-on configured)
# leaves the local form at /accounts/login/local/ only, the break-glass way in.
PASSWORD_SIGN_IN = env.bool("PASSWORD_SIGN_IN", default=True)

if OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("identity.oidc.ProviderBackend")
if LDAP_SERVER_URI:
    AUTHENTICATION_BACKENDS.append("identity.directory.DirectoryBackend")


# --- HTTPS --------------------------------------------------------------------------------------
# On by default whenever DEBUG is off; turn them off explicitly for plain HTTP on a trusted network.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# X-Forwarded-Proto says "https" only when a TLS proxy in front sets it; without one, any client
# could send it and pass a plain HTTP request off as secure.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxies (addresses or networks) whose X-Forwarded-For is believed: the client's address, for
# the audit trail, the sign-in lockout and the rate limits alike, is the last address in that header
# that is not one of them (portal/addresses.py). Empty: the header is never read.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"


# --- Audit trail -------------------------------------------------------------------------------
# Days the audit trail (the Activity page) keeps an event; the delivery worker removes older ones
# hourly, and `manage.py prune_audit` does it at once.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)


# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
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


# --- Environments -------------------------------------------------------------------------------
# The environments webhooks live in, in the order the tab shows them (portal/environments.py): a
# comma-separated list of names; each needs its API key, AUTOQL_<NAME>_API_KEY.
WEBHOOK_ENVIRONMENTS = [
    (name, name.capitalize()) for name in env.list("WEBHOOK_ENVIRONMENTS", default=["sandbox", "production"])
]


# --- Management API (the portal's side) ---------------------------------------------------------
AUTOQL_DOMAIN = env.str("AUTOQL_DOMAIN", default="").rstrip("/")
AUTOQL_SANDBOX_API_KEY = env.str("AUTOQL_SANDBOX_API_KEY", default="")
AUTOQL_PRODUCTION_API_KEY = env.str("AUTOQL_PRODUCTION_API_KEY", default="")
AUTOQL_TOKEN = env.str("AUTOQL_TOKEN", default="")
# The key of every other environment of WEBHOOK_ENVIRONMENTS, by the same rule of names.
for _name, _label in WEBHOOK_ENVIRONMENTS:
    globals().setdefault(f"AUTOQL_{_name.upper()}_API_KEY", env.str(f"AUTOQL_{_name.upper()}_API_KEY", default=""))
# How long one call to the management API may take in all, in seconds: connecting, the headers and
# the whole body, however slowly they come (portal/outbound_http.py cuts a trickle at the deadline).
# Reads are short, so a page whose API is down or slow still renders at once; changes and test
# connections wait for a receiver too. A log export must start within AUTOQL_API_TIMEOUT, and
# then each of its reads must.
AUTOQL_API_TIMEOUT = env.float("AUTOQL_API_TIMEOUT", default=5.0)
AUTOQL_API_CHANGE_TIMEOUT = env.float("AUTOQL_API_CHANGE_TIMEOUT", default=30.0)
# The most of one answer the portal reads, in bytes, decompressed; a larger one is refused unread.
# The largest legitimate answer is a page of 100 log rows: about 130 KB usually, 6.4 MiB when every
# receiver's answer in it is the 64 KiB the logs keep (the export is not capped).
AUTOQL_API_MAX_RESPONSE_BYTES = env.int("AUTOQL_API_MAX_RESPONSE_BYTES", default=8 * 1024 * 1024)


# --- Secrets at rest (the embedded API's side) -------------------------------------------------
# Fernet keys, comma-separated, newest first: the newest encrypts webhook secrets, all decrypt.
# `manage.py rotate_encryption_key` puts a new one in front and re-encrypts every value.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])


# --- Webhook delivery (the embedded API's side) -------------------------------------------------
WEBHOOK_ALLOWED_NETWORKS = _networks("WEBHOOK_ALLOWED_NETWORKS")
WEBHOOK_RETRY_SCHEDULE = env.list("WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000])
# One delivery attempt never takes longer than this, connect and body included.
WEBHOOK_DELIVERY_DEADLINE = env.float("WEBHOOK_DELIVERY_DEADLINE", default=10.0)
# Receivers' answers are stored for the logs; a larger body is cut at this many bytes.
WEBHOOK_RESPONSE_MAX_BYTES = 64 * 1024
# A webhook failing with no success for this long is disabled until a manager enables it again.
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=5.0)
# How often each worker looks for deliveries cut off by a worker that died, in seconds.
WEBHOOK_RECOVERY_INTERVAL = env.float("WEBHOOK_RECOVERY_INTERVAL", default=30.0)
# Due deliveries a dispatcher claims and sends at once before it writes their log rows together.
WEBHOOK_DISPATCH_BATCH = env.int("WEBHOOK_DISPATCH_BATCH", default=100)


# --- Demo receiver ------------------------------------------------------------------------------
# The built-in receiver (demo_receiver/) answers anyone who can reach the server: it exists only
# when enabled (`make run` enables it); otherwise its pages are 404 and the top bar hides its link.
DEMO_RECEIVER_ENABLED = env.bool("DEMO_RECEIVER_ENABLED", default=False)
# Receipts it keeps per environment; the oldest go first.
DEMO_RECEIVER_MAX_RECEIPTS = env.int("DEMO_RECEIVER_MAX_RECEIPTS", default=500)


# How many test connections one web process runs at once; more are answered 429 at once, so a
# receiver that hangs can never hold more than this many of the process's threads.
TEST_CONNECTION_CONCURRENCY = env.int("TEST_CONNECTION_CONCURRENCY", default=4)


# --- Abuse limits -------------------------------------------------------------------------------
# django-ratelimit rates ("<count>/<s|m|h|d>"): calls per API key to the management API, and test
# connections per signed-in user of the portal.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/m")
# Calls to the management API without a valid key and token, per client address: they never
# spend a key's budget (the key travels in query strings), and this bounds guesses at the token.
API_UNAUTHENTICATED_RATE_LIMIT = env.str("API_UNAUTHENTICATED_RATE_LIMIT", default="60/m")
TEST_CONNECTION_RATE_LIMIT = env.str("TEST_CONNECTION_RATE_LIMIT", default="20/m")
# The logs' health panel (24 h and 7 d stats) is computed at most once this often per cache, not
# on every tab load; 0 computes it every time.
HEALTH_PANEL_CACHE_SECONDS = env.int("HEALTH_PANEL_CACHE_SECONDS", default=30)

# The counters and the kept health panels live in the cache, which every web node must share: set
# CACHE_URL (or REDIS_URL), e.g. redis://127.0.0.1:6379/1?key_prefix=portal (Django's RedisCache as
# portal/cache.py tunes it, with the redis package). One process alone may keep the default, a cache of its own.
_CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if _CACHE_URL:
    CACHES["default"] = env.cache_url_config(_CACHE_URL)
    # django-environ hands key_prefix, timeout and version to Django's RedisCache in lower case, and
    # Django reads them only in capitals: a key_prefix would be silently dropped, and two portals on
    # one Redis database would share their counters.
    for _option in ("KEY_PREFIX", "TIMEOUT", "VERSION"):
        if _option.lower() in CACHES["default"]:
            CACHES["default"][_option] = CACHES["default"].pop(_option.lower())
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        CACHES["default"]["BACKEND"] = "portal.cache.RedisCache"  # Django's, cheaper per call
# django-ratelimit knows Django's own RedisCache only by another name (W001); without CACHE_URL the
# per-process cache is the documented choice for a single node (E003), each web process counting apart.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + ([] if _CACHE_URL else ["django_ratelimit.E003"])


# --- Operations: retention, health checks, metrics --------------------------------------------
# Log rows older than this many days are removed (oldest first, in small batches) by the worker;
# Recover reaches back no further.
WEBHOOK_LOG_RETENTION_DAYS = env.float("WEBHOOK_LOG_RETENTION_DAYS", default=90.0)
# How often each worker runs that retention pass, in seconds.
WEBHOOK_RETENTION_INTERVAL = env.float("WEBHOOK_RETENTION_INTERVAL", default=3600.0)
# /readyz answers 503 when the oldest due delivery has waited longer than this, in seconds.
READYZ_MAX_QUEUE_LAG = env.float("READYZ_MAX_QUEUE_LAG", default=300.0)
# Bearer token Prometheus sends to /metrics; empty turns /metrics off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")


# --- Delivery worker (manage.py delivery_worker) ----------------------------------------------
# The delivery rows are the queue. An idle worker looks at them again after this many seconds,
# unless woken sooner: on PostgreSQL each commit that makes a delivery due wakes it (NOTIFY), so
# this poll is only a safety net; SQLite has no such wake-up, so there it is what workers rely on.
WEBHOOK_POLL_INTERVAL = env.float(
    "WEBHOOK_POLL_INTERVAL", default=5.0 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 0.25
)
if not WEBHOOK_POLL_INTERVAL > 0:
    # 0 would have every idle worker query the database in a tight loop.
    raise ImproperlyConfigured(f"WEBHOOK_POLL_INTERVAL: {WEBHOOK_POLL_INTERVAL:g} is not a number of seconds above 0")


# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # urllib3 writes every request line at DEBUG, query string included, and the management API
    # takes its key in the query string: never below INFO, whatever LOG_LEVEL says.
    "loggers": {"urllib3": {"level": "INFO"}},
}


# --- Benchmark only -----------------------------------------------------------------------------
# benchmarks/bench.py (the ingest part) compares POST {env}/events with a view that inserts one row;
# that view exists only when this is true (portal/bench_floor.py), never in production.
BENCH_FLOOR_VIEWS = env.bool("BENCH_FLOOR_VIEWS", default=False)
