"""Zora settings, read from the environment.

No variables set is the embedded default: SQLite (WAL, immediate
transactions) and the in-memory channel layer in one process. DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis for production and tests.

Every variable is checked here, as the process starts (zora/environment.py):
a value that cannot work stops it with ImproperlyConfigured naming the
variable and what it takes. docs/operations.md lists them all.
"""

import email.utils
import re
from pathlib import Path
from urllib.parse import urlparse

import environ
import redis.connection
from django.core.exceptions import ImproperlyConfigured
from psycopg.conninfo import make_conninfo

from zora import environment as env
from zora.environment import misconfigured

BASE_DIR = Path(__file__).resolve().parent.parent

EMBEDDED = not env.is_set("DATABASE_URL")
DEBUG = env.flag("DEBUG", default=EMBEDDED)

_DEV_SECRET_KEY = "zora-insecure-development-key-never-use-in-production"
SECRET_KEY = env.text("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production refuses to start without it).")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (
    SECRET_KEY == _DEV_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    # What Django's deployment check (security.W009) asks of a key; the value itself is never echoed.
    raise misconfigured(
        "SECRET_KEY",
        "a random string of at least 50 characters, e.g. from "
        "`python -c 'from django.core.management.utils import get_random_secret_key as k; print(k())'`",
    )


def _origins(name: str) -> list[str]:
    """A list of browser origins: a scheme, a host and optionally a port, nothing after."""
    origins = env.items(name, default=[])
    for origin in origins:
        parsed = urlparse(origin)
        try:
            parsed.port  # noqa: B018 (raises for a port that is not a number)
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path:
            raise misconfigured(
                name,
                "comma-separated origins such as https://zora.example.com (scheme, host, optional port)",
                value=origin,
            )
    return origins


ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
if not ALLOWED_HOSTS:
    raise misconfigured("ALLOWED_HOSTS", "comma-separated host names such as zora.example.com (or * for any)")
CSRF_TRUSTED_ORIGINS = _origins("CSRF_TRUSTED_ORIGINS")
# Browser pages on other sites whose sockets may use the visitor's session cookie
# (realtime/socket/identity.py); a page on this site itself always may, whatever ALLOWED_HOSTS says.
REALTIME_ALLOWED_ORIGINS = _origins("REALTIME_ALLOWED_ORIGINS")

# HTTPS. Off DEBUG, cookies only travel over HTTPS and browsers are told to use nothing else (HSTS,
# sent on HTTPS responses only). Behind a TLS-terminating proxy Django sees plain HTTP unless the
# proxy's header says otherwise; with that header set, plain-HTTP requests are redirected too
# (without it, behind a proxy, every request would look plain and redirect forever).
_proxy_ssl_header = env.text("SECURE_PROXY_SSL_HEADER").strip()
if _proxy_ssl_header:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_ssl_header):
        raise misconfigured(
            "SECURE_PROXY_SSL_HEADER",
            "the name of the header the proxy sets to https, such as X-Forwarded-Proto",
            value=_proxy_ssl_header,
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=not DEBUG and bool(_proxy_ssl_header))
# Load balancers and metrics scrapers reach processes over the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.flag("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.flag("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.flag("SECURE_HSTS_PRELOAD", default=True)
# Django's defaults, stated because they are part of the design: no sniffing, no framing,
# no cross-site referrers, no cross-origin window handles.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# /metrics: with a token, only `Authorization: Bearer <token>`; without one, open only with DEBUG.
METRICS_TOKEN = env.text("METRICS_TOKEN")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "zora",
    "accounts",
    "vendors",
    "catalog",
    "orders",
    "support",
    "realtime",
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
    "django_htmx.middleware.HtmxMiddleware",
    "realtime.middleware.RealtimeSeqMiddleware",
]

ROOT_URLCONF = "zora.urls"
ASGI_APPLICATION = "zora.asgi.application"
WSGI_APPLICATION = None

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
                "accounts.portal.context.notification_bell",
                "vendors.portal.context.vendor_portal",
                "accounts.portal.context.dashboard_portal",
            ],
        },
    },
]

_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
_DATABASE_URL_FORMS = "postgres://user:password@host:5432/<database> or sqlite:///<absolute path>"
# OPTIONS keys Django's PostgreSQL backend reads itself; every other query parameter goes to libpq.
_POSTGRES_DJANGO_OPTIONS = {"isolation_level", "server_side_binding", "assume_role"}


def _database_from_url() -> dict:
    """DATABASES["default"] from DATABASE_URL (never echoed: it holds the password)."""
    try:
        config = environ.Env.db_url_config(env.text("DATABASE_URL").strip())
    except ValueError:
        config = {}
    engine = config.get("ENGINE", "")
    if engine not in ("django.db.backends.postgresql", "django.db.backends.sqlite3") or not config.get("NAME"):
        raise misconfigured("DATABASE_URL", _DATABASE_URL_FORMS)
    options = config.setdefault("OPTIONS", {})
    if engine == "django.db.backends.sqlite3":
        unknown = set(options) - set(_SQLITE_OPTIONS)
        if unknown:
            raise misconfigured(
                "DATABASE_URL", f"{_DATABASE_URL_FORMS}; SQLite takes only ?timeout=, not {sorted(unknown)}"
            )
        config["OPTIONS"] = {**_SQLITE_OPTIONS, **options}
        return config
    if "pool" in options:
        raise misconfigured("DATABASE_URL", f"{_DATABASE_URL_FORMS} without ?pool= (DATABASE_POOL_SIZE sizes the pool)")
    try:
        make_conninfo("", **{key: value for key, value in options.items() if key not in _POSTGRES_DJANGO_OPTIONS})
    except Exception as exc:  # psycopg.ProgrammingError: libpq's own words name the bad parameter
        raise misconfigured(
            "DATABASE_URL", f"{_DATABASE_URL_FORMS} with libpq parameters only ({str(exc).strip()})"
        ) from None
    return config


def _connection_lifetime(config: dict) -> int:
    """CONN_MAX_AGE from DATABASE_URL's ?conn_max_age= or the CONN_MAX_AGE variable."""
    in_url = config.pop("CONN_MAX_AGE", None)
    if in_url is None:
        return env.integer("CONN_MAX_AGE", default=0)
    if isinstance(in_url, bool) or not isinstance(in_url, int) or in_url < 0:
        raise misconfigured("DATABASE_URL", "a URL whose ?conn_max_age= is a whole number of seconds (0 or more)")
    return in_url


if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.text("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": dict(_SQLITE_OPTIONS),
        }
    }
else:
    DATABASES = {"default": _database_from_url()}
_database = DATABASES["default"]
# Not read from DATABASE_URL (where it would come as text): persistent connections are always checked, below.
_database.pop("CONN_HEALTH_CHECKS", None)
_conn_max_age = _connection_lifetime(_database)
_pool_size = env.integer("DATABASE_POOL_SIZE", default=20)
_pool_timeout = env.number("DATABASE_POOL_TIMEOUT", default=30.0)
if _database["ENGINE"] == "django.db.backends.postgresql" and _pool_size:
    # A pool per process (psycopg_pool): opening a PostgreSQL connection forks a backend, and
    # without a pool every socket's connect and every request paid for one. The pool replaces
    # persistent connections, which Django refuses to combine with it.
    if _conn_max_age:
        raise ImproperlyConfigured(
            "CONN_MAX_AGE (or DATABASE_URL's ?conn_max_age=) keeps connections open, which the pool already does: "
            "leave it at 0, or set DATABASE_POOL_SIZE=0 to use persistent connections instead of the pool."
        )
    _database["OPTIONS"]["pool"] = {"min_size": min(2, _pool_size), "max_size": _pool_size, "timeout": _pool_timeout}
    _database["CONN_MAX_AGE"] = 0
    # With the pool, Django turns this into psycopg_pool's `check`: a connection is tried (an empty query)
    # before it is handed out. A restarted or failed-over server, or pg_terminate_backend, leaves dead
    # connections idle in the pool, and without the check each one failed the next request (or /healthz)
    # that drew it, after the database was already back.
    _database["CONN_HEALTH_CHECKS"] = True
else:
    _database["CONN_MAX_AGE"] = _conn_max_age
    _database["CONN_HEALTH_CHECKS"] = bool(_conn_max_age)
# Lets several test runs share one PostgreSQL server without colliding.
if env.is_set("TEST_DATABASE_NAME"):
    _database["TEST"] = {"NAME": env.text("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ActiveAccountBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/vendor/"
# Portal sign-in throttling (accounts/login_throttle.py): failures per account and address, and per address.
LOGIN_FAILURES_PER_ACCOUNT = env.integer("LOGIN_FAILURES_PER_ACCOUNT", default=5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env.integer("LOGIN_FAILURES_PER_ADDRESS", default=30, minimum=1)
LOGIN_LOCKOUT_SECONDS = env.integer("LOGIN_LOCKOUT_SECONDS", default=15 * 60, minimum=1)

# Mail (password resets, notifications): printed to the console unless EMAIL_URL names an SMTP server,
# e.g. smtp+tls://user:password@smtp.example.com:587.
try:
    vars().update(environ.Env.email_url_config(env.text("EMAIL_URL", default="consolemail://").strip()))
except (ImproperlyConfigured, ValueError):
    # Never echoed: it may hold the mail server's password.
    raise misconfigured(
        "EMAIL_URL",
        "smtp://, smtp+tls:// or smtps://user:password@host:port, or consolemail://, filemail://, memorymail://",
    ) from None


def _mail_address(name: str, default: str) -> str:
    value = env.text(name, default=default).strip()
    if "@" not in email.utils.parseaddr(value)[1]:
        raise misconfigured(name, "an address such as Zora <no-reply@zora.example.com>", value=value)
    return value


DEFAULT_FROM_EMAIL = _mail_address("DEFAULT_FROM_EMAIL", default="Zora <no-reply@zora.test>")
# Support inbox (support/mail.py): replies come from this address, so the customer's answers return to the
# support mailbox, whose mail is posted to /api/v1/support/inbound with this shared secret (empty: refused).
SUPPORT_FROM_EMAIL = _mail_address("SUPPORT_FROM_EMAIL", default="Zora support <support@zora.test>")
SUPPORT_INBOUND_TOKEN = env.text("SUPPORT_INBOUND_TOKEN")
# Hours to the first reply on a new thread, by priority; "due soon" in the last quarter of that time.
SUPPORT_FIRST_RESPONSE_HOURS = {
    "urgent": env.number("SUPPORT_FIRST_RESPONSE_HOURS_URGENT", default=1),
    "high": env.number("SUPPORT_FIRST_RESPONSE_HOURS_HIGH", default=4),
    "normal": env.number("SUPPORT_FIRST_RESPONSE_HOURS_NORMAL", default=24),
    "low": env.number("SUPPORT_FIRST_RESPONSE_HOURS_LOW", default=72),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.text("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env.text("REDIS_URL").strip()


def _redis_url_works(url: str) -> bool:
    """What redis-py reads: its schemes, and a database number (redis-py ignores any other path)."""
    try:
        redis.connection.parse_url(url)
    except ValueError:
        return False
    database = urlparse(url).path.strip("/")
    return url.startswith("unix:") or database == "" or database.isdigit()


if REDIS_URL and not _redis_url_works(REDIS_URL):
    # Never echoed: it may hold the password.
    raise misconfigured("REDIS_URL", "a URL such as redis://host:6379/0 (also rediss:// or unix:///path)")
# Connections each process may hold per Redis client; past it, callers wait their turn.
REDIS_POOL_SIZE = env.integer("REDIS_POOL_SIZE", default=100, minimum=1)
# channels-redis blocks up to 5 s per poll; a socket timeout below that would end the poll with an
# error and kill a quiet consumer (redis-py 8's own default is 5 s).
REDIS_SOCKET_TIMEOUT = env.number("REDIS_SOCKET_TIMEOUT", default=30.0, above=5.0)
# CHANNEL_LAYER's choices; tests of one layer's failures swap these in.
CHANNEL_LAYER_BACKENDS = {
    "core": "realtime.layers.WaitingRedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
# pubsub by measurement (docs/performance.md): at 100 changes/s over 1,000 sockets it held
# p99 under 100 ms where the core layer's per-message polling fell seconds behind. What
# pub/sub drops while a connection is down, the dispatchers repair from the outbox.
# Read (and so checked) with or without REDIS_URL; without it, one process's in-memory layer serves.
_layer = env.choice("CHANNEL_LAYER", default="pubsub", choices=CHANNEL_LAYER_BACKENDS)
_layer_capacity = env.integer("CHANNEL_LAYER_CAPACITY", default=1000, minimum=1)
_layer_prefix = env.text("CHANNEL_LAYER_PREFIX", default="zora").strip()
if not re.fullmatch(r"[A-Za-z0-9_.-]+", _layer_prefix):
    raise misconfigured("CHANNEL_LAYER_PREFIX", "letters, digits, dots, dashes or underscores", value=_layer_prefix)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[_layer],
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 5,
                        "max_connections": REDIS_POOL_SIZE,
                    }
                ]
            },
        }
    }
    if _layer == "core":
        CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = _layer_capacity
    else:
        # Redis pub/sub ignores the database number: deployments sharing a Redis server need their own prefix.
        CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = _layer_prefix
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "zora.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "zora.api_schema.ApiSchema",
    "EXCEPTION_HANDLER": "zora.api.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["zora.throttling.WriteRateThrottle"],
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only the socket address.
    "NUM_PROXIES": env.integer("API_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.rate("THROTTLE_AUTH", default="10/min"),
        "writes": env.rate("THROTTLE_WRITES", default="120/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Zora API",
    "DESCRIPTION": "REST API for the Zora mobile app.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, so /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ApplicationStatusEnum": "vendors.models.VendorApplication.Status",
        "InventoryAlertStatusEnum": "catalog.models.InventoryAlert.Status",
        "SupportThreadStatusEnum": "support.models.EmailThread.Status",
    },
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# API writes sent with an Idempotency-Key keep their answer this long for replays (zora/idempotency.py).
IDEMPOTENCY_KEY_TTL_HOURS = env.integer("IDEMPOTENCY_KEY_TTL_HOURS", default=24, minimum=1)

# Real-time
REALTIME_PUBLIC_KEY = env.text("REALTIME_PUBLIC_KEY", default="zora-public-anon-key")
REALTIME_RETENTION_HOURS = env.integer("REALTIME_RETENTION_HOURS", default=24, minimum=1)
REALTIME_SWEEP_SECONDS = env.number("REALTIME_SWEEP_SECONDS", default=5.0)
REALTIME_SOCKET_IDLE_SECONDS = env.number("REALTIME_SOCKET_IDLE_SECONDS", default=60.0)

# Timed changes (zora/scheduling.py): every server process sweeps for due changes.
TIMED_CHANGES_ENABLED = env.flag("TIMED_CHANGES_ENABLED", default=True)
# No sweep waits longer than this between runs (tests shorten it to see deadlines pass quickly).
TIMED_CHANGES_MAX_INTERVAL_SECONDS = env.number("TIMED_CHANGES_MAX_INTERVAL_SECONDS", default=30.0)

# Orders
DELIVERY_FEE = env.money("DELIVERY_FEE", default="2.99")
# A pending order must be accepted this many minutes after it is placed, or it is rejected for the shop;
# its staff are reminded at the reminder mark and the platform team is told at the escalation mark.
ORDER_ACCEPT_MINUTES = env.number("ORDER_ACCEPT_MINUTES", default=8)
ORDER_ACCEPT_REMINDER_MINUTES = env.number("ORDER_ACCEPT_REMINDER_MINUTES", default=3)
ORDER_ACCEPT_ESCALATE_MINUTES = env.number("ORDER_ACCEPT_ESCALATE_MINUTES", default=5)
for _mark in ("ORDER_ACCEPT_REMINDER_MINUTES", "ORDER_ACCEPT_ESCALATE_MINUTES"):
    if globals()[_mark] >= ORDER_ACCEPT_MINUTES:
        raise misconfigured(_mark, f"less than ORDER_ACCEPT_MINUTES ({ORDER_ACCEPT_MINUTES:g}), or it never comes")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.choice("LOG_LEVEL", default="WARNING", choices=LOG_LEVELS)},
}

# Uploads (zora/uploads.py): checked by content; public images under MEDIA_ROOT, private files elsewhere.
UPLOAD_MAX_IMAGE_BYTES = env.integer("UPLOAD_MAX_IMAGE_BYTES", default=5 * 1024 * 1024, minimum=1)
UPLOAD_MAX_DOCUMENT_BYTES = env.integer("UPLOAD_MAX_DOCUMENT_BYTES", default=10 * 1024 * 1024, minimum=1)
# Application documents and chat attachments: never under MEDIA_ROOT, so no URL reaches them unchecked.
PRIVATE_MEDIA_ROOT = env.text("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private_media"))
if Path(PRIVATE_MEDIA_ROOT).resolve().is_relative_to(Path(MEDIA_ROOT).resolve()):
    raise misconfigured(
        "PRIVATE_MEDIA_ROOT",
        f"a folder outside MEDIA_ROOT ({MEDIA_ROOT}), which is served to anyone",
        value=PRIVATE_MEDIA_ROOT,
    )
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
}

# Vendor portal
# A shop taking orders with no portal tab connected for this many minutes of its opening hours pauses
# itself (its team sees why on return); 0 turns this off.
VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES = env.integer("VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES", default=10)
