"""Zora settings, read from the environment.

No variables set is the embedded default: SQLite (WAL, immediate
transactions) and the in-memory channel layer in one process. DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis for production and tests.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

EMBEDDED = not env.str("DATABASE_URL", default="")
DEBUG = env.bool("DEBUG", default=EMBEDDED)

_DEV_SECRET_KEY = "zora-insecure-development-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production refuses to start without it).")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 32 characters.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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

if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    # A pool per process (psycopg_pool): opening a PostgreSQL connection forks a backend, and
    # without a pool every socket's connect and every request paid for one. The pool replaces
    # persistent connections, so CONN_MAX_AGE only counts with DATABASE_POOL_SIZE=0.
    _pool_size = env.int("DATABASE_POOL_SIZE", default=20)
    if _pool_size:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_size),
            "max_size": _pool_size,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Lets several test runs share one PostgreSQL server without colliding.
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ActiveAccountBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/vendor/"
# Portal sign-in throttling (accounts/login_throttle.py): failures per account and address, and per address.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)

# Mail (password resets, notifications): printed to the console unless EMAIL_URL names an SMTP server,
# e.g. smtp+tls://user:password@smtp.example.com:587.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Zora <no-reply@zora.test>")
# Support inbox (support/mail.py): replies come from this address, so the customer's answers return to the
# support mailbox, whose mail is posted to /api/v1/support/inbound with this shared secret (empty: refused).
SUPPORT_FROM_EMAIL = env.str("SUPPORT_FROM_EMAIL", default="Zora support <support@zora.test>")
SUPPORT_INBOUND_TOKEN = env.str("SUPPORT_INBOUND_TOKEN", default="")
# Hours to the first reply on a new thread, by priority; "due soon" in the last quarter of that time.
SUPPORT_FIRST_RESPONSE_HOURS = {
    "urgent": env.float("SUPPORT_FIRST_RESPONSE_HOURS_URGENT", default=1),
    "high": env.float("SUPPORT_FIRST_RESPONSE_HOURS_HIGH", default=4),
    "normal": env.float("SUPPORT_FIRST_RESPONSE_HOURS_NORMAL", default=24),
    "low": env.float("SUPPORT_FIRST_RESPONSE_HOURS_LOW", default=72),
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
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env.str("REDIS_URL", default="")
# Connections each process may hold per Redis client; past it, callers wait their turn.
REDIS_POOL_SIZE = env.int("REDIS_POOL_SIZE", default=100)
# CHANNEL_LAYER's choices; tests of one layer's failures swap these in.
CHANNEL_LAYER_BACKENDS = {
    "core": "realtime.layers.WaitingRedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
if REDIS_URL:
    # pubsub by measurement (docs/performance.md): at 100 changes/s over 1,000 sockets it held
    # p99 under 100 ms where the core layer's per-message polling fell seconds behind. What
    # pub/sub drops while a connection is down, the dispatchers repair from the outbox.
    _layer = env.str("CHANNEL_LAYER", default="pubsub")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[_layer],
            # channels-redis blocks up to 5 s per poll; redis-py 8's 5 s default socket
            # timeout would end that poll with an error and kill a quiet consumer.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=30.0),
                        "socket_connect_timeout": 5,
                        "max_connections": REDIS_POOL_SIZE,
                    }
                ]
            },
        }
    }
    if _layer == "core":
        CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = env.int("CHANNEL_LAYER_CAPACITY", default=1000)
    else:
        # Redis pub/sub ignores the database number: deployments sharing a Redis server need their own prefix.
        CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = env.str("CHANNEL_LAYER_PREFIX", default="zora")
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
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "zora.api.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["zora.throttling.WriteRateThrottle"],
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts only the socket address.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
        "writes": env.str("THROTTLE_WRITES", default="120/min"),
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

# Real-time
REALTIME_PUBLIC_KEY = env.str("REALTIME_PUBLIC_KEY", default="zora-public-anon-key")
REALTIME_RETENTION_HOURS = env.int("REALTIME_RETENTION_HOURS", default=24)
REALTIME_SWEEP_SECONDS = env.float("REALTIME_SWEEP_SECONDS", default=5.0)
REALTIME_SOCKET_IDLE_SECONDS = env.float("REALTIME_SOCKET_IDLE_SECONDS", default=60.0)

# Timed changes (zora/scheduling.py): every server process sweeps for due changes.
TIMED_CHANGES_ENABLED = env.bool("TIMED_CHANGES_ENABLED", default=True)
# No sweep waits longer than this between runs (tests shorten it to see deadlines pass quickly).
TIMED_CHANGES_MAX_INTERVAL_SECONDS = env.float("TIMED_CHANGES_MAX_INTERVAL_SECONDS", default=30.0)

# Orders
DELIVERY_FEE = env.str("DELIVERY_FEE", default="2.99")
# A pending order must be accepted this many minutes after it is placed, or it is rejected for the shop;
# its staff are reminded at the reminder mark and the platform team is told at the escalation mark.
ORDER_ACCEPT_MINUTES = env.float("ORDER_ACCEPT_MINUTES", default=8)
ORDER_ACCEPT_REMINDER_MINUTES = env.float("ORDER_ACCEPT_REMINDER_MINUTES", default=3)
ORDER_ACCEPT_ESCALATE_MINUTES = env.float("ORDER_ACCEPT_ESCALATE_MINUTES", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)

# Uploads (zora/uploads.py): checked by content; public images under MEDIA_ROOT, private files elsewhere.
UPLOAD_MAX_IMAGE_BYTES = env.int("UPLOAD_MAX_IMAGE_BYTES", default=5 * 1024 * 1024)
UPLOAD_MAX_DOCUMENT_BYTES = env.int("UPLOAD_MAX_DOCUMENT_BYTES", default=10 * 1024 * 1024)
# Application documents and chat attachments: never under MEDIA_ROOT, so no URL reaches them unchecked.
PRIVATE_MEDIA_ROOT = env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private_media"))
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
}

# Vendor portal
# A shop taking orders with no portal tab connected for this many minutes of its opening hours pauses
# itself (its team sees why on return); 0 turns this off.
VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES = env.int("VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES", default=10)
