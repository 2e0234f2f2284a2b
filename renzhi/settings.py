"""Renzhi settings: one file, driven by environment variables.

DATABASE_URL   unset → embedded SQLite (WAL) at var/renzhi.sqlite3; postgres://… → PostgreSQL
SECRET_KEY     required unless DEBUG=1
DEBUG          "1"/"true" for development
ALLOWED_HOSTS  comma-separated
DISPLAY_TIME_ZONE  display zone (default Asia/Shanghai); storage is always UTC
HTTPS / SECURE_COOKIES, SECURE_SSL_REDIRECT, SECURE_PROXY_SSL_HEADER, SECURE_HSTS_*
               see "Security headers and HTTPS" below and docs/security.md
"""

import datetime as dt
import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RENZHI_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("DEBUG")
# Under pytest: immediate background tasks, fast password hashing, no manifest for static files.
TESTING = env_bool("RENZHI_TESTING") or "pytest" in sys.modules
# A benchmark on a throwaway database may use the fast hasher with DEBUG off (see bench/).
BENCHMARK = env_bool("RENZHI_BENCHMARK")
DEVELOPMENT_SECRET_KEY = "renzhi-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not TESTING:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG and not TESTING:
    raise ImproperlyConfigured(
        "SECRET_KEY is the built-in development key, which is public: set a long random "
        "SECRET_KEY of your own when DEBUG is off"
    )

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "axes",
    "renzhi.core",
    "renzhi.appeals",
    "renzhi.triage",
    "renzhi.warning",
    "renzhi.emergency",
    "renzhi.commons",
    "renzhi.open311",
    "renzhi.web",
    "renzhi.demo",
]

MIDDLEWARE = [
    "renzhi.core.overload.BusyDatabaseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "renzhi.core.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "renzhi.core.middleware.PermissionsPolicyMiddleware",
    "renzhi.core.session_expiry.SessionExpiryMiddleware",
    # Last: turns a lockout flagged during authentication into the localised lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "renzhi.urls"
WSGI_APPLICATION = "renzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "renzhi.web.context.navigation",
                "renzhi.appeals.context.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# A web request waits at most this long for a lock (SQLite busy timeout, PostgreSQL
# lock_timeout), then gets a 503 with Retry-After (renzhi.core.overload) instead of hanging.
# On SQLite, workers and commands keep the longer busy timeout below.
RENZHI_DB_BUSY_TIMEOUT = float(os.environ.get("RENZHI_DB_BUSY_TIMEOUT", "5"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
        )
    }
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = (
        f"{_pg_options.get('options', '')} -c lock_timeout={int(RENZHI_DB_BUSY_TIMEOUT * 1000)}"
    ).strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "renzhi.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers never both read
                # the same audit-chain head; WAL lets readers go on meanwhile.
                "transaction_mode": "IMMEDIATE",
                # synchronous=FULL: a commit is on disk before it is acknowledged, even if
                # the machine loses power (NORMAL in WAL mode may lose the last commits).
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "renzhi.core.passwords.LengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "renzhi.core.passwords.CharacterClassValidator"},
]
if env_bool("RENZHI_FAST_HASHER") and not (DEBUG or TESTING or BENCHMARK):
    # Unsalted MD5 makes every stolen password hash trivial to crack.
    raise ImproperlyConfigured(
        "RENZHI_FAST_HASHER is for tests and the demo only: unset it when DEBUG is off"
    )
if TESTING or env_bool(
    "RENZHI_FAST_HASHER"
):  # tests and the demo: hashing is not what we measure there
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_HTTPONLY = True

# --- Security headers and HTTPS -------------------------------------------------------------
# Behind HTTPS set HTTPS=1 (SECURE_COOKIES=1 is the older name): cookies only over TLS, HSTS
# for a year, and http:// redirected to https:// (SECURE_SSL_REDIRECT=0 when the proxy already
# redirects). Behind a reverse proxy that terminates TLS, SECURE_PROXY_SSL_HEADER names the
# header it sets, e.g. "HTTP_X_FORWARDED_PROTO,https"; only set it if the proxy always
# overwrites that header. docs/security.md has the checklist and the nginx headers.
HTTPS = env_bool("HTTPS") or env_bool("SECURE_COOKIES")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _proxy_header, _comma, _proxy_value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    if not _proxy_header.strip() or not _proxy_value.strip():
        raise ImproperlyConfigured(
            'SECURE_PROXY_SSL_HEADER must be "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https"'
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_header.strip(), _proxy_value.strip())
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = "same-origin"  # tracking numbers in paths stay on our site
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts only from our own static files, no inline
# script or handler, nothing fetched from elsewhere (the product is offline by design).
# Styles keep 'unsafe-inline': ECharts builds its tooltips and legends as HTML with inline
# style attributes, and templates still carry style attributes; CSS cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
# Browser features no page needs are switched off (renzhi.core.middleware.PermissionsPolicy);
# geolocation stays for our own pages (a field report pre-fills the reporter's position).
RENZHI_PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}
# Residents may stay signed in for two weeks (Django's default); staff sessions end after
# RENZHI_STAFF_IDLE_MINUTES without a request and RENZHI_SESSION_MAX_HOURS after sign-in
# (renzhi.core.session_expiry).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 14 * 24 * 3600))
RENZHI_STAFF_IDLE_MINUTES = int(os.environ.get("RENZHI_STAFF_IDLE_MINUTES", 30))
RENZHI_SESSION_MAX_HOURS = int(os.environ.get("RENZHI_SESSION_MAX_HOURS", 12))

# Sign-in lockout (django-axes, see renzhi.core.signin_throttle): AXES_FAILURE_LIMIT failed
# attempts lock the username and the client address for AXES_COOLOFF_TIME; an administrator
# may unlock earlier (audited). The counters live in the database (stateless app servers).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("RENZHI_SIGNIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("RENZHI_SIGNIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = "renzhi.core.signin_throttle.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "renzhi.core.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "renzhi.web.views.locked_out"
# A success must not wipe the address's failures (one valid account would reset the counter
# of every account guessed from the same address); counters expire with the cool-off.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit chain already
AXES_VERBOSE = False

# Registration proves the phone with a texted code (renzhi.core.phone_codes): at most one code
# a minute and RENZHI_PHONE_CODES_PER_NUMBER an hour per number, RENZHI_PHONE_CODES_PER_IP an
# hour per client address. The SMS sender is the notification interface's (a logging stub here).
RENZHI_SMS_SENDER = os.environ.get("RENZHI_SMS_SENDER", "renzhi.core.notify.SmsLogSender")
RENZHI_PHONE_CODE_INTERVAL_SECONDS = int(os.environ.get("RENZHI_PHONE_CODE_INTERVAL_SECONDS", 60))
RENZHI_PHONE_CODES_PER_NUMBER = int(os.environ.get("RENZHI_PHONE_CODES_PER_NUMBER", 5))
RENZHI_PHONE_CODES_PER_IP = int(os.environ.get("RENZHI_PHONE_CODES_PER_IP", 20))

# --- i18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "renzhi" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("DISPLAY_TIME_ZONE", "Asia/Shanghai")  # display; storage is UTC

# Working hours used by SLA deadlines (local time, Asia/Shanghai).
RENZHI_WORKING_PERIODS = [("09:00", "12:00"), ("13:30", "17:30")]

# --- Static / media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"  # never served: every file goes through a scoped view (core/uploads.py)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Who sends a file once its view has checked the viewer's scope: "django" (the app streams it),
# "nginx" (X-Accel-Redirect to the `internal` location RENZHI_FILE_ACCEL_PREFIX, which aliases
# MEDIA_ROOT) or "sendfile" (X-Sendfile with the absolute path). See docs/security.md.
RENZHI_FILE_SERVING = os.environ.get("RENZHI_FILE_SERVING", "django")
RENZHI_FILE_ACCEL_PREFIX = os.environ.get("RENZHI_FILE_ACCEL_PREFIX", "/protected-media/")
RENZHI_MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per file
RENZHI_MAX_IMAGE_PIXELS = int(os.environ.get("RENZHI_MAX_IMAGE_PIXELS", 40_000_000))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# Periodic tasks: `manage.py scheduler` enqueues each at its interval (seconds);
# `manage.py db_worker` runs them.
RENZHI_PERIODIC_TASKS = {
    "renzhi.appeals.tasks.check_sla": 600,
    "renzhi.appeals.tasks.refresh_metrics": 300,
    "renzhi.warning.tasks.refresh_series": 600,
    "renzhi.warning.tasks.detect_today": 86400,
    "renzhi.warning.tasks.expire_warnings": 300,
    "renzhi.triage.tasks.refresh_hot_issues": 1800,
    "renzhi.emergency.periodic_incidents.escalate_tasks": 300,
    "renzhi.emergency.periodic_resources.remind": 3600,
    "renzhi.commons.tasks.close_due_votes": 60,
    "renzhi.commons.tasks.earn_credits": 900,
    "renzhi.core.tasks.sweep": 60,
}

# The sweeper (renzhi.core.sweeper): outbox rows still pending this long after they were written
# are enqueued again; jobs RUNNING longer than RENZHI_JOB_TIMEOUT go back to READY (FAILED after
# RENZHI_JOB_MAX_TRIES runs).
RENZHI_OUTBOX_SWEEPS = [
    "renzhi.core.notify.resend_pending",
    "renzhi.warning.tasks.resend_pending",
]
RENZHI_OUTBOX_GRACE = float(os.environ.get("RENZHI_OUTBOX_GRACE", "120"))
RENZHI_JOB_TIMEOUT = float(os.environ.get("RENZHI_JOB_TIMEOUT", "900"))
RENZHI_JOB_MAX_TRIES = int(os.environ.get("RENZHI_JOB_MAX_TRIES", "3"))

# Intake plug point of the appeals app (see renzhi.appeals.actions.cases._intake_triage):
# classification, urgency and near-duplicates of each new appeal by the triage app.
RENZHI_INTAKE_TRIAGE = "renzhi.triage.intake.on_intake"
# The scoped hot-issue lookup behind `?hot_issue=<id>` pre-fills (warning, emergency, commons):
# (user, id) -> HotIssue | None, None when the user may not see it.
RENZHI_HOT_ISSUE_LOOKUP = "renzhi.triage.queries.hot_issue_for"

# Intake throttle of residents' own filings (web form, resident API, Open311), counted in the
# database per resident account and per contact phone: at most PER_WINDOW in WINDOW_MINUTES
# and PER_DAY in 24 hours. Staff channels (hotline, patrol, partner API, import) are not
# throttled per caller: see docs/security.md.
# Under pytest the limits are off unless a test sets them (tests file many appeals as one
# resident); the throttle's own tests set the production defaults explicitly.
RENZHI_INTAKE_THROTTLE = {
    "WINDOW_MINUTES": int(os.environ.get("RENZHI_INTAKE_WINDOW_MINUTES", "10")),
    "PER_WINDOW": int(os.environ.get("RENZHI_INTAKE_PER_WINDOW", "100000" if TESTING else "5")),
    "PER_DAY": int(os.environ.get("RENZHI_INTAKE_PER_DAY", "100000" if TESTING else "30")),
}

# --- Warnings, CAP and Open311: public identity and distribution ---------------------------
# The address residents and partners reach this server at (CAP alert links, the Atom feed).
RENZHI_PUBLIC_URL = os.environ.get("RENZHI_PUBLIC_URL", "http://127.0.0.1:8000")
# CAP <sender> and <source>; GB/T 35965.1 wants the issuing organisation's identifier here.
RENZHI_CAP_SENDER = os.environ.get("RENZHI_CAP_SENDER", "cap@renzhi.example.cn")
RENZHI_CAP_SOURCE = os.environ.get("RENZHI_CAP_SOURCE", "Renzhi")
# Published, updated and cancelled warnings go to this MQTT broker as CAP XML.
RENZHI_MQTT_URL = os.environ.get("RENZHI_MQTT_URL", "mqtt://127.0.0.1:1883")
RENZHI_MQTT_TOPIC = os.environ.get("RENZHI_MQTT_TOPIC", "renzhi/cap")
# Trained triage models (one file per version).
RENZHI_TRIAGE_MODEL_DIR = Path(os.environ.get("RENZHI_TRIAGE_MODEL_DIR", VAR_DIR / "triage"))

# --- Audit chain anchoring and retention (docs/security.md "Audit chain and retention") -----
# The key of the per-event HMAC; required when DEBUG is off (derived from SECRET_KEY otherwise).
RENZHI_AUDIT_KEY = os.environ.get("RENZHI_AUDIT_KEY", "")
# Append-only file of chain-head digests (one line per anchor: seq hash hmac time).
# Tests get a file of their own so a developer's var/ anchors never meet a test database.
RENZHI_AUDIT_ANCHOR_FILE = Path(
    os.environ.get(
        "RENZHI_AUDIT_ANCHOR_FILE",
        VAR_DIR / (f"test-audit-anchors-{os.getpid()}.log" if TESTING else "audit-anchors.log"),
    )
)
# Audit and login records younger than this are never purged (at least six months).
RENZHI_AUDIT_RETENTION_DAYS = max(183, int(os.environ.get("RENZHI_AUDIT_RETENTION_DAYS", "183")))

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

RENZHI_SITE_NAME = _("Renzhi community resilience platform")

# Senders beyond the in-app inbox. The two listed are logging stubs (see renzhi/core/notify.py).
RENZHI_NOTIFICATION_SENDERS = [
    "renzhi.core.notify.SmsLogSender",
    "renzhi.core.notify.WeChatLogSender",
]

# --- Outbound requests (renzhi.core.outbound) -------------------------------------------------
# Hosts or networks (CIDR) that users' URLs (CAP feed links, webhooks) may reach although they
# are not public internet addresses, e.g. "10.20.0.0/16,cap.intranet.gov.cn". Empty: none.
RENZHI_OUTBOUND_ALLOW = [
    a.strip() for a in os.environ.get("RENZHI_OUTBOUND_ALLOW", "").split(",") if a.strip()
]
RENZHI_OUTBOUND_TIMEOUT = float(os.environ.get("RENZHI_OUTBOUND_TIMEOUT", "10"))
RENZHI_OUTBOUND_MAX_BYTES = int(os.environ.get("RENZHI_OUTBOUND_MAX_BYTES", "2000000"))
