"""Roster settings, read from the environment (see README and DESIGN.md)."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG")
# The test suite runs with development-safe defaults (no SMTP, throwaway key).
TESTING = env_bool("ROSTER_TESTING") or "pytest" in sys.modules

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "accounts.admin_site.AdminConfig",  # django.contrib.admin with Roster's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "strawberry_django",
    "mozilla_django_oidc",
    "accounts",
    "directory",
    "schema",
    # After accounts: its db_worker command (housekeeping first) wraps the library's.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # The request id (X-Request-ID), one log line and the metrics per request; answers
    # /api/user/metrics/ (backend.observability).
    "backend.observability.ObservabilityMiddleware",
    # Where each request came from, for the audit trail.
    "accounts.audit.AuditContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The caller's language: the signed-in user's, else Accept-Language (backend.i18n).
    "backend.i18n.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "accounts.middleware.BearerAwareCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The benchmark mounts its comparison views with ROOT_URLCONF=bench.urls (never in production).
ROOT_URLCONF = env("ROOT_URLCONF", "backend.urls")
WSGI_APPLICATION = "backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "roster"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
# Seconds a reauthenticate keeps sensitive operations open in its session.
REAUTHENTICATION_TTL = env_int("REAUTHENTICATION_TTL", 600)
# Days audit events are kept (manage.py auditprune removes older ones).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
# Keys of the secrets stored encrypted (backend/crypto.py): comma-separated, any long random
# strings; the first encrypts, every one decrypts (rotation: put a new key first). Without
# one, a key derived from SECRET_KEY (rotating SECRET_KEY then makes the stored secrets
# unreadable: set this in production).
FIELD_ENCRYPTION_KEY = env_list("FIELD_ENCRYPTION_KEY") or [f"derived:{SECRET_KEY}"]
# Second factor: how long a sign-in waits for its second factor, and after how many wrong
# codes in a row the account's owner is emailed.
MFA_CHALLENGE_TTL = env_int("MFA_CHALLENGE_TTL", 300)
MFA_FAILURES_NOTIFY = env_int("MFA_FAILURES_NOTIFY", 5)
# An identity provider's sign-in counts as multi-factor when its ID token's ``amr`` holds
# one of these (RFC 8176); else an account with a second factor is asked for it.
OIDC_MFA_AMR_VALUES = env_list("OIDC_MFA_AMR_VALUES", "mfa,otp,hwk,swk")
# Passkeys (WebAuthn): the relying party, and the frontend's origins (the ceremonies run in
# the frontend's pages). The RP ID is the frontend's host or a parent domain of it.
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", "localhost")
WEBAUTHN_RP_NAME = env("WEBAUTHN_RP_NAME", "Roster")
WEBAUTHN_ORIGINS = env_list("WEBAUTHN_ORIGINS", "http://localhost:3000")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

AUTH_USER_MODEL = "accounts.User"
# Anonymous visitors get no object permissions: no guardian anonymous user.
ANONYMOUS_USER_NAME = None
AUTHENTICATION_BACKENDS = [
    "accounts.backends.EmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        # Django's, also over the names in the user's profile.
        "NAME": "accounts.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {
            "user_attributes": ("email",),
            "profile_attributes": ("first_name", "last_name"),
        },
    },
    {
        "NAME": "accounts.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("nl", "Dutch")]
TIME_ZONE = "UTC"
USE_I18N = True
# Each app's catalogs are in its own locale/; backend/ is not an app, so it is named here.
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]
FORMAT_MODULE_PATH = ["backend.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = env("MEDIA_URL", "/media/")
# Serve avatar files from Django itself (a small view with a fixed content type and
# nosniff); on by default in development, off in production unless set to 1.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)

# Email: console in development when no SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
elif DEBUG or TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise ImproperlyConfigured("EMAIL_HOST must be set when DEBUG is off.")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Roster <no-reply@localhost>")
# Emails are queued in the transaction of their change and sent by the task worker
# (accounts.emails), so a slow or absent mail server neither delays an answer nor
# reveals (by timing) whether an address has an account, and loses nothing.
# 40 attempts, 30 s doubling up to an hour, with jitter: about a day of retries.
EMAIL_RETRY_MAX = env_int("EMAIL_RETRY_MAX", 40)
EMAIL_RETRY_BASE_DELAY = float(env("EMAIL_RETRY_BASE_DELAY", "30"))
EMAIL_RETRY_MAX_DELAY = float(env("EMAIL_RETRY_MAX_DELAY", "3600"))

# Background tasks: Django's Tasks API (django-tasks, the backport of django.tasks) on
# the database (django-tasks-db); ``manage.py db_worker`` runs them. Tests run a task
# in-process when its transaction commits.
TASKS = {
    "default": {
        "BACKEND": "backend.tasks.ImmediateOnCommitBackend"
        if TESTING
        else "django_tasks_db.DatabaseBackend"
    }
}
# A session's last activity (and device) is written at most this often (seconds).
SESSION_ACTIVITY_INTERVAL = env_int("SESSION_ACTIVITY_INTERVAL", 60)
# A task RUNNING longer than this lost its worker and is run again (seconds).
TASKS_RUNNING_TIMEOUT = env_int("TASKS_RUNNING_TIMEOUT", 300)
# The readiness check fails when the oldest ready task waited longer (seconds).
TASKS_MAX_LAG = env_int("TASKS_MAX_LAG", 300)
FRONTEND_URL = env("FRONTEND_URL", "http://localhost:3000").rstrip("/")

# GraphQL
GRAPHIQL = env_bool("GRAPHIQL", DEBUG)
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 12)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 30)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 2000)
GRAPHQL_MAX_DIRECTIVES = env_int("GRAPHQL_MAX_DIRECTIVES", 20)
GRAPHQL_PAGE_SIZE_MAX = 100
# contacts { totalCount } is exact up to this many contacts; beyond it, this bound with
# totalCountIsExact false (counting a million rows costs seconds, 1,000 a few ms).
DIRECTORY_COUNT_EXACT_UP_TO = env_int("DIRECTORY_COUNT_EXACT_UP_TO", 1000)
STRAWBERRY_DJANGO = {
    "MUTATIONS_DEFAULT_HANDLE_ERRORS": True,
    "PAGINATION_DEFAULT_LIMIT": GRAPHQL_PAGE_SIZE_MAX,
    "MAP_AUTO_ID_AS_GLOBAL_ID": True,
}

# Accounts
SUBSCRIPTIONS_AVAILABLE = {
    "free": {"name": "Free", "seats": env_int("PLAN_FREE_SEATS", 5)},
    "team": {"name": "Team", "seats": 50},
    "enterprise": {"name": "Enterprise", "seats": None},
}
DEFAULT_SUBSCRIPTION = env("DEFAULT_SUBSCRIPTION", "free")
SYSTEM_PERMISSION_GROUPS = ["Service staff"]
MANAGEABLE_PERMISSION_GROUPS = ["Administrators", "Inviters"]
ADMINISTRATORS_GROUP = "Administrators"
INVITERS_GROUP = "Inviters"
VERIFICATION_TOKEN_LIFETIME = timedelta(seconds=env_int("VERIFICATION_TOKEN_LIFETIME", 24 * 3600))
RESET_PASSWORD_TOKEN_LIFETIME = timedelta(seconds=env_int("RESET_PASSWORD_TOKEN_LIFETIME", 3600))
INVITATION_LIFETIME = timedelta(seconds=env_int("INVITATION_LIFETIME", 7 * 24 * 3600))
# A new address is confirmed within this time; the old one may revert the change longer.
EMAIL_CHANGE_TOKEN_LIFETIME = timedelta(seconds=env_int("EMAIL_CHANGE_TOKEN_LIFETIME", 24 * 3600))
EMAIL_CHANGE_REVERT_LIFETIME = timedelta(
    seconds=env_int("EMAIL_CHANGE_REVERT_LIFETIME", 7 * 24 * 3600)
)
# A revert also removes the identities and second factors added since this long before
# the change was requested (whoever changed the address may have prepared a way back in).
EMAIL_CHANGE_REVERT_LOOKBACK = timedelta(
    seconds=env_int("EMAIL_CHANGE_REVERT_LOOKBACK", 7 * 24 * 3600)
)

# An unverified registration holds its address this long, then it is deleted
# (``manage.py prunependingregistrations``); a new registration replaces it sooner.
PENDING_REGISTRATION_LIFETIME = timedelta(
    seconds=env_int("PENDING_REGISTRATION_LIFETIME", 7 * 24 * 3600)
)
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 5 * 1024 * 1024)
AVATAR_MAX_PIXELS = env_int("AVATAR_MAX_PIXELS", 40_000_000)
AVATAR_THUMBNAIL_SIZE = env_int("AVATAR_THUMBNAIL_SIZE", 128)
# The stored avatar is scaled down to fit this square (the thumbnail is separate).
AVATAR_IMAGE_MAX_SIZE = env_int("AVATAR_IMAGE_MAX_SIZE", 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = AVATAR_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "accounts.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# OIDC (mozilla-django-oidc); off unless a client id is configured.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET")
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if (
    OIDC_ENABLED
    and not OIDC_OP_ISSUER
    and not all((OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT))
):
    raise ImproperlyConfigured(
        "OIDC_RP_CLIENT_ID is set: set OIDC_OP_ISSUER (discovery) or the OIDC_OP_*_ENDPOINT variables."
    )
# The provider key of UserExternalAuthentication rows: a stable name, else the issuer.
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME")
OIDC_OP_LOGOUT_ENDPOINT = env("OIDC_OP_LOGOUT_ENDPOINT")  # end_session_endpoint; discovered too
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_USE_NONCE = True
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("OIDC_TOKEN_USE_BASIC_AUTH")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
OIDC_CLOCK_SKEW = env_int("OIDC_CLOCK_SKEW", 60)
OIDC_DISCOVERY_TTL = env_int("OIDC_DISCOVERY_TTL", 24 * 3600)
OIDC_JWKS_TTL = env_int("OIDC_JWKS_TTL", 3600)
# Validated bearer access tokens are remembered this long (seconds) before asking again.
OIDC_BEARER_CACHE_TTL = env_int("OIDC_BEARER_CACHE_TTL", 60)
OIDC_OP_LOGOUT_URL_METHOD = "accounts.oidc.provider_logout_url"
# Access tokens (loginExternal, Authorization: Bearer) are accepted only when meant for
# Roster: their ``aud`` or ``client_id`` is one of these (default: Roster's client id),
# checked by token introspection (RFC 7662; the endpoint also comes from discovery) or,
# for JWT access tokens (RFC 9068, typ at+jwt), against the provider's keys.
OIDC_ALLOWED_AUDIENCES = env_list("OIDC_ALLOWED_AUDIENCES")
OIDC_OP_INTROSPECTION_ENDPOINT = env("OIDC_OP_INTROSPECTION_ENDPOINT")
# Opt-in for providers that offer neither: accept any token their userinfo accepts,
# also tokens issued to their other clients.
OIDC_ACCESS_TOKEN_USERINFO_ONLY = env_bool("OIDC_ACCESS_TOKEN_USERINFO_ONLY")
# Enterprise SSO: the DNS server asked for domain proofs ("host:port"; empty: the
# system's resolvers), and how long one lookup may take (seconds).
SSO_DNS_RESOLVER = env("SSO_DNS_RESOLVER")
SSO_DNS_TIMEOUT = float(env("SSO_DNS_TIMEOUT", "5"))
# An organization's provider on a private address (one Roster reaches inside its own
# network); off: an administrator cannot make Roster fetch from internal hosts.
SSO_ALLOW_PRIVATE_PROVIDERS = env_bool("SSO_ALLOW_PRIVATE_PROVIDERS", DEBUG or TESTING)
LOGIN_REDIRECT_URL = env("OIDC_LOGIN_REDIRECT_URL", FRONTEND_URL + "/")
LOGIN_REDIRECT_URL_FAILURE = env("OIDC_LOGIN_FAILURE_URL", FRONTEND_URL + "/login")
LOGOUT_REDIRECT_URL = env("OIDC_LOGOUT_REDIRECT_URL", FRONTEND_URL + "/")
# `?next=` after sign-in may point at the frontend as well as at Roster itself.
OIDC_REDIRECT_ALLOWED_HOSTS = [urlsplit(FRONTEND_URL).netloc] if FRONTEND_URL else []
# Inert while OIDC is off; listed always so OIDC sessions resolve once it is on.
AUTHENTICATION_BACKENDS += ["accounts.oidc.OIDCBackend", "accounts.oidc.OrganizationOIDCBackend"]
# Before CsrfViewMiddleware: a request whose bearer token validates skips CSRF.
# Django's deploy check looks for its own CsrfViewMiddleware by name; Roster runs a subclass
# of it (the same checks, skipped only for bearer-token requests; tests/schema/test_endpoint
# proves a POST without the token is refused).
SILENCED_SYSTEM_CHECKS = ["security.W003"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("accounts.middleware.BearerAwareCsrfViewMiddleware"),
    "accounts.middleware.BearerTokenMiddleware",
)

# Security
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    if SESSION_COOKIE_SECURE:
        # A "__Host-" cookie is accepted only over HTTPS, for this exact host and path "/",
        # so no sibling subdomain can plant (toss) a session into a visitor's browser:
        # the browser that registered an account is recognised by its session alone.
        SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TESTING)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^api/user/health/$", r"^api/user/ready/$"]

# Observability (README, "Production"). Logs: readable text, or one JSON object per line
# (backend.logs); one line per request (logger roster.request).
LOG_FORMAT = env("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "backend.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # Development's server logs each request too; Roster's line says more.
    "loggers": {"django.server": {"level": "WARNING"}},
}
# Prometheus metrics at /api/user/metrics/ (backend.metrics), for a scraper that sends
# ``Authorization: Bearer <METRICS_TOKEN>``. With several gunicorn workers, also set
# PROMETHEUS_MULTIPROC_DIR (an empty directory). Operations named by a frontend of its own
# (e.g. ProfilePage) are labelled by name when listed here; others count as "other".
METRICS = env_bool("METRICS")
METRICS_TOKEN = env("METRICS_TOKEN")
if METRICS and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS=1 needs METRICS_TOKEN, a random string of 32+ characters.")
METRICS_OPERATION_NAMES = frozenset(env_list("METRICS_OPERATION_NAMES"))
# OpenTelemetry traces (backend.tracing), exported over OTLP/HTTP to this endpoint; the
# exporter reads the other OTEL_* variables (headers, service name) itself.
TRACING = bool(env("OTEL_EXPORTER_OTLP_ENDPOINT"))

# Rate limits: scope -> (attempts, window in seconds). Counted per call in the cache.
RATE_LIMITS = {
    "login-email": (env_int("RATE_LIMIT_LOGIN_EMAIL", 10), 15 * 60),
    "login-address": (env_int("RATE_LIMIT_LOGIN_ADDRESS", 50), 15 * 60),
    "register-address": (env_int("RATE_LIMIT_REGISTER_ADDRESS", 10), 60 * 60),
    "email-request-address": (env_int("RATE_LIMIT_EMAIL_REQUEST_ADDRESS", 20), 60 * 60),
    "email-request-email": (env_int("RATE_LIMIT_EMAIL_REQUEST_EMAIL", 5), 60 * 60),
    "token-address": (env_int("RATE_LIMIT_TOKEN_ADDRESS", 30), 15 * 60),
    "invitation-email": (env_int("RATE_LIMIT_INVITATION_EMAIL", 5), 60 * 60),
    "invitation-actor": (env_int("RATE_LIMIT_INVITATION_ACTOR", 100), 60 * 60),
    "external-login-address": (env_int("RATE_LIMIT_EXTERNAL_LOGIN_ADDRESS", 60), 15 * 60),
    "mfa-user": (env_int("RATE_LIMIT_MFA_USER", 10), 15 * 60),
    "mfa-address": (env_int("RATE_LIMIT_MFA_ADDRESS", 50), 15 * 60),
    # Each begun passkey sign-in keeps a challenge in a (new) session.
    "passkey-begin-address": (env_int("RATE_LIMIT_PASSKEY_BEGIN_ADDRESS", 100), 15 * 60),
    # Each avatar upload decodes an image: bounded per user, also across aliases.
    "avatar-user": (env_int("RATE_LIMIT_AVATAR_USER", 30), 60 * 60),
    "data-export-user": (env_int("RATE_LIMIT_DATA_EXPORT_USER", 5), 60 * 60),
    # Each domain verification asks DNS: bounded per organization.
    "domain-verify": (env_int("RATE_LIMIT_DOMAIN_VERIFY", 30), 60 * 60),
}
# Number of reverse proxies in front of Roster that append to X-Forwarded-For (0: none).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
