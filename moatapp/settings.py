"""Moat map settings: one module, every value from the environment.

Unset variables give the embedded default: SQLite under var/, jobs run inline
in the request, no other server needed. Every variable is listed in
.env.example and in the README.
"""

import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)

_INSECURE_KEY_PREFIX = "django-insecure-"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production settings (DEBUG off) refuse to start without "
            "a real secret key: set SECRET_KEY to a long random string."
        )
    SECRET_KEY = _INSECURE_KEY_PREFIX + "local-development-only"
elif not DEBUG and (SECRET_KEY.startswith(_INSECURE_KEY_PREFIX) or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production (DEBUG off): use at least 32 random characters."
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # WhiteNoise, not runserver, serves static files in `make run` as it does in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "csp",
    "assessments",
]

MIDDLEWARE = [
    # First: everything after it, django-axes included, sees the client's real address.
    "moatapp.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which answers static files itself with their long cache.
    "moatapp.middleware.NoStoreMiddleware",
    "moatapp.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "moatapp.urls"
WSGI_APPLICATION = "moatapp.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
            # A context's template tags live in the context (it is no app of its own).
            "libraries": {"sso_tags": "assessments.identity.templatetags"},
        },
    }
]

# Database: DATABASE_URL, or a SQLite file under var/ for a first look.
_default_sqlite = f"sqlite:///{BASE_DIR / 'var' / 'moatmap.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool; Django forbids combining it with CONN_MAX_AGE.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": envint("DATABASE_POOL_MIN", 2),
        "max_size": envint("DATABASE_POOL_MAX", 10),
        "timeout": envint("DATABASE_POOL_TIMEOUT", 10),
    }
    # Each connection is checked as it leaves the pool: after a database restart the broken
    # ones are replaced instead of failing one request each.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # Several web threads and an inline job may write at once: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not memory, so that a worker thread and the live server share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock an account-and-address pair after repeated failures.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js comes from the installed plotly package, never from a CDN.
    "moatapp.staticfiles.PlotlyFinder",
    # The hashed copies collectstatic made, which pages link (see moatapp/staticfiles.py).
    "moatapp.staticfiles.CollectedFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names, gzip and brotli copies (collectstatic); see moatapp/staticfiles.py.
    "staticfiles": {"BACKEND": "moatapp.staticfiles.StaticStorage"},
}
# Serve straight from the finders too, so that the app works before collectstatic and an
# edited file is served fresh; collected files are served compressed, hashed ones for ever.
WHITENOISE_USE_FINDERS = True
# collectstatic keeps (and compresses) only hashed copies; plain names come from the finders.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Uploads: an evidence CSV of 100,000 rows is about 9 MB; refuse anything much larger.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 16 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "moatmap@localhost")

# Security headers. Production (DEBUG off) gets secure cookies and HSTS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_secure = envbool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
# Production redirects plain HTTP to HTTPS itself, so that a misconfigured proxy cannot
# serve diligence in clear text; the container health check stays on plain HTTP.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31536000)
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS")

# Content-Security-Policy (django-csp 4): only our own scripts and styles.
# Plotly sets inline style attributes on the SVG it draws, hence 'unsafe-inline' for styles
# only; scripts need a nonce or our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # NONCE is django-csp's sentinel (a plain "'nonce'" string would be sent as is and
        # match nothing): it becomes 'nonce-…' when a template reads request.csp_nonce.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Celery. No broker configured: jobs run inline, in the request, with the same code.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A save must answer quickly even when Redis is down: the sweeper picks the task up later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    # Publishing retries at once instead of after kombu's default 2 s pause: with Redis
    # down a save still answers in about 0.1 s (measured by tests/test_reliability.py).
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": 3600,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_MAX_RETRIES = 1
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "rescore-everything-daily": {
        "task": "assessments.tasks.rescore_everything",
        "schedule": crontab(hour=2, minute=0),
    },
    "sweep-stale-tasks": {
        "task": "assessments.tasks.sweep_stale",
        "schedule": envint("SWEEP_INTERVAL_SECONDS", 60),
    },
    "sweep-ic-packs": {
        "task": "assessments.tasks.sweep_ic_packs",
        "schedule": crontab(minute=17),
    },
}
# A task stale for longer than this is re-scored by the sweeper: its job was lost.
STALE_AFTER_SECONDS = envint("STALE_AFTER_SECONDS", 90)

# Static chart export (Kaleido) needs a Chromium; BROWSER_PATH points at it.
BROWSER_PATH = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Kaleido and its browser driver log every render at INFO.
        "kaleido": {"level": "WARNING"},
        "choreographer": {"level": "WARNING"},
    },
}
AXES_VERBOSE = False

# --- Hardening: proxies and imports ---------------------------------------------------------
# The number of reverse proxies in front of the app that append to X-Forwarded-For (0: none,
# the peer is the client). Behind one nginx or load balancer, 1. Set it wrong and every
# client shares one address, and django-axes locks a user out for everyone.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
# An import larger than this many rows runs as a background job with a progress bar.
IMPORT_INLINE_ROWS = envint("IMPORT_INLINE_ROWS", 2_000)

# --- Integrations: the JSON API, alert e-mail and webhooks ---------------------------------
# django-ninja serves the API, its OpenAPI schema and the Swagger UI from its own package
# (static files included: nothing is fetched from a CDN).
INSTALLED_APPS += ["ninja"]
API_PAGE_SIZE = envint("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = envint("API_MAX_PAGE_SIZE", 200)
# A personal API token opens the API this many days after it is made.
API_TOKEN_LIFETIME_DAYS = envint("API_TOKEN_LIFETIME_DAYS", 90)
# Making a token asks for the password again; an SSO user (no password) must have signed in
# at the identity provider within this many minutes.
API_TOKEN_FRESH_SIGN_IN_MINUTES = envint("API_TOKEN_FRESH_SIGN_IN_MINUTES", 10)
# Links in alert e-mails point here (no request to take the host from in a job).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhook deliveries: each POST has this long in all (a deadline, not a per-read timeout); a
# failure is retried with exponential backoff (BACKOFF, 2×BACKOFF, 4×… capped at an hour)
# until MAX_ATTEMPTS attempts.
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_BACKOFF_SECONDS = envint("WEBHOOK_BACKOFF_SECONDS", 30)
# Outgoing requests (assessments/outbound.py) refuse loopback, private, link-local, metadata,
# multicast and reserved addresses; list here (CIDRs, comma-separated) the internal networks
# a webhook may still reach, e.g. "10.20.0.0/16".
OUTBOUND_ALLOWED_NETWORKS = envlist("OUTBOUND_ALLOWED_NETWORKS")
# The daily alert digest goes out at this hour (TIME_ZONE).
ALERT_DIGEST_HOUR = envint("ALERT_DIGEST_HOUR", 7)
# An alert goes out (webhook, e-mail) once its task or company has had no re-score that
# changed its alerts for this long: ten notes typed in a row are one burst, and a move
# undone within it raises nothing (alerting.states_before_burst).
ALERT_SETTLE_SECONDS = envint("ALERT_SETTLE_SECONDS", 120)
CELERY_BEAT_SCHEDULE |= {
    "dispatch-alert-events": {
        "task": "assessments.tasks.dispatch_alert_events",
        "schedule": envint("SWEEP_INTERVAL_SECONDS", 60),
    },
    "send-alert-digests": {
        "task": "assessments.tasks.send_alert_digests",
        "schedule": crontab(hour=ALERT_DIGEST_HOUR, minute=0),
    },
}

# --- Sign-in with the firm's identity provider (OpenID Connect) -----------------------------
# Any standard provider, by its endpoints (see the README for Google, Entra ID and Okta).
# SSO is on when OIDC_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = envint("OIDC_TIMEOUT_SECONDS", 10)
# The claim that lists the user's groups, and what each group grants:
# {"group": [["Fund name", "partner" | "associate" | "viewer"], ...], ...}
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_GROUP_ROLES = json.loads(os.environ.get("OIDC_GROUP_ROLES") or "{}")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your identity provider")
# Link a first SSO sign-in to an existing account with the same verified e-mail (off: only
# issuer + subject link; never a superuser, an account with an identity or a second factor).
OIDC_LINK_BY_EMAIL = envbool("OIDC_LINK_BY_EMAIL", False)
# With MFA_REQUIRED_FOR_PARTNERS, an SSO sign-in still owes our second factor unless this is on
# and the ID token's amr claim says the provider did multi-factor ("mfa").
OIDC_TRUST_IDP_MFA = envbool("OIDC_TRUST_IDP_MFA", False)
# Passwords off: only SSO signs in (superusers keep their password, to repair SSO).
SSO_ONLY = envbool("SSO_ONLY", False) and OIDC_ENABLED
LOGIN_URL_SSO_FAILED = "/accounts/login/?sso=failed"
LOGIN_REDIRECT_URL_FAILURE = LOGIN_URL_SSO_FAILED
AUTHENTICATION_BACKENDS.insert(
    AUTHENTICATION_BACKENDS.index("django.contrib.auth.backends.ModelBackend"),
    "assessments.identity.sso.SsoOnlyGate",
)
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("assessments.identity.sso.SsoBackend")

# --- A second factor for password sign-ins (django-otp: TOTP and recovery codes) -----------
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "assessments.identity.mfa.RequireSecondFactor",
)
OTP_TOTP_ISSUER = "Moat map"
# Wrong codes are counted on their own (not by django-axes, whose counter the password step
# resets): per account, and per client address. 0: the account limit is AXES_FAILURE_LIMIT and
# the address limit four times the account limit. django-otp's own per-device delay would
# refuse a right code typed just after a wrong one.
MFA_FAILURE_LIMIT = envint("MFA_FAILURE_LIMIT", 0)
MFA_ADDRESS_FAILURE_LIMIT = envint("MFA_ADDRESS_FAILURE_LIMIT", 0)
MFA_COOLOFF_MINUTES = envint("MFA_COOLOFF_MINUTES", envint("AXES_COOLOFF_MINUTES", 15))
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Partners (of any fund) must set up a second factor before anything else opens.
MFA_REQUIRED_FOR_PARTNERS = envbool("MFA_REQUIRED_FOR_PARTNERS", False)

# --- Rate limits (assessments/ratelimit.py): requests per minute, 429 with Retry-After -------
# 0 turns one limit off; RATE_LIMITS=false all of them. Counted in the cache: with several
# server processes, set CACHE_URL to a Redis database (redis://host:6379/2) so they share it.
RATE_LIMITS = envbool("RATE_LIMITS", True)
RATE_LIMIT_API_PER_TOKEN = envint("RATE_LIMIT_API_PER_TOKEN", 600)
RATE_LIMIT_API_PER_ADDRESS = envint("RATE_LIMIT_API_PER_ADDRESS", 1200)
RATE_LIMIT_SIGN_IN = envint("RATE_LIMIT_SIGN_IN", 20)
RATE_LIMIT_SECOND_FACTOR = envint("RATE_LIMIT_SECOND_FACTOR", 20)
RATE_LIMIT_TOKENS = envint("RATE_LIMIT_TOKENS", 10)
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Before the sessions and the views, after the client's real address is known.
MIDDLEWARE.insert(
    MIDDLEWARE.index("moatapp.middleware.TrustedProxyMiddleware") + 1,
    "assessments.ratelimit.RateLimitMiddleware",
)

# --- The API's documentation and schema: behind sign-in unless opened --------------------
API_DOCS_PUBLIC = envbool("API_DOCS_PUBLIC", False)
