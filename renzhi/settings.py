"""Renzhi settings: one file, driven by environment variables.

DATABASE_URL   unset → embedded SQLite (WAL) at var/renzhi.sqlite3; postgres://… → PostgreSQL
SECRET_KEY     required unless DEBUG=1
DEBUG          "1"/"true" for development
ALLOWED_HOSTS  comma-separated
DISPLAY_TIME_ZONE  display zone (default Asia/Shanghai); storage is always UTC
"""

import os
import sys
from pathlib import Path

import dj_database_url
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
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not TESTING:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "renzhi-insecure-development-key-do-not-use-in-production"

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
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
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
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
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
if TESTING or env_bool(
    "RENZHI_FAST_HASHER"
):  # tests and the demo: hashing is not what we measure there
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")

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
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
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
}

# Intake plug point of the appeals app (see renzhi.appeals.actions.cases._intake_triage):
# classification, urgency and near-duplicates of each new appeal by the triage app.
RENZHI_INTAKE_TRIAGE = "renzhi.triage.intake.on_intake"

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
