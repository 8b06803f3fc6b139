"""Django settings for Yizhan, read from the environment (see .env.example for every variable).

The embedded default (no variables set) is a development setup: SQLite, an in-memory channel layer
and background tasks run in-process after commit. Production sets DEBUG=0 and must then provide
SECRET_KEY, ALLOWED_HOSTS and the real services.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_required, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-never-used-when-DEBUG-is-off"
else:
    SECRET_KEY = env_required("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with at least 5 distinct characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names the site is served on when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "mediation",
    "realtime",
    "documents",
    "frontend",
    "ninja",  # its docs page then uses the Swagger UI files it ships, not a CDN
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "api.middleware.ApiAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.HtmlCSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "frontend.middleware.DomainErrorMiddleware",
    # Turns a password sign-in refused for lock-out into the page that says until when (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

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
                "frontend.context_processors.navigation",
                "frontend.context_processors.elder",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or "",
        # Persistent connections in production (a new PostgreSQL connection per call was a fifth of a join's
        # time); 0 under DEBUG, where the tests drop their database at the end and want no idle connections.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 300, minimum=0),
        conn_health_checks=True,
    )
}
if not DEBUG and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    # Production on the embedded SQLite default would lose row locks, compare-and-set under load and the
    # audit trigger; refuse rather than run quietly on it.
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...) when DEBUG is off.")
# psycopg's connection pool (decisions D59): on by default on PostgreSQL with DEBUG off (the workers
# of the deployment and the benches), off under DEBUG (the tests drop their database and want no idle
# connections; DB_POOL=1 turns it on there too). Django's pool replaces persistent connections (it refuses
# CONN_MAX_AGE > 0 with it); with DB_POOL=0 the persistent connections above stay.
DB_POOL = env_bool("DB_POOL", not DEBUG) and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # Every thread that queries holds one connection while it runs: the room sockets' ROOM_DB_THREADS,
        # Channels' and asgiref's sync threads for the HTTP views, Celery's eager tasks.
        "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: one writer at a time is enough for a demo; wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "mediation.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password sign-in (/accounts/login/, /admin/login/) is throttled by django-axes, per account and per address
# alike: LOGIN_FAILURE_LIMIT wrong passwords lock that account, or that address, for LOGIN_LOCKOUT_MINUTES
# (counted again from each further try while locked). Codes by SMS have their own limits (OTP_*).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_CLIENT_IP_CALLABLE = "frontend.http.client_ip"
AXES_LOCKOUT_CALLABLE = "frontend.views.identity.password_locked_out"
AXES_VERBOSE = False  # no banner on every manage.py command; lock-outs are logged and audited
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # each role's own work (frontend/views/cases.py)
LOGOUT_REDIRECT_URL = "home"

# --- Redis: channel layer, Celery broker ----------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))
if not DEBUG and not REDIS_URL:
    # Without it production would run an in-memory channel layer per process and tasks in-process.
    raise ImproperlyConfigured("REDIS_URL must be set when DEBUG is off (channel layer and Celery broker).")
REDIS_PREFIX = env_str("REDIS_PREFIX", "yizhan") or "yizhan"
# With Redis, the pub/sub layer by default (decisions D58); CHANNEL_LAYER=redis is the core layer.
CHANNEL_LAYER_BACKEND = env_str("CHANNEL_LAYER", "redis-pubsub" if REDIS_URL else "memory")
if CHANNEL_LAYER_BACKEND not in {"redis", "redis-pubsub", "memory"}:
    raise ImproperlyConfigured(
        f"CHANNEL_LAYER must be 'redis', 'redis-pubsub' or 'memory', got {CHANNEL_LAYER_BACKEND!r}."
    )
if CHANNEL_LAYER_BACKEND in {"redis", "redis-pubsub"} and not REDIS_URL:
    raise ImproperlyConfigured("CHANNEL_LAYER=redis needs REDIS_URL.")


# The core layer's pool (read even when the pub/sub layer is chosen, so a malformed value stops start-up).
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 200, minimum=1)
REDIS_POOL_TIMEOUT = env_int("REDIS_POOL_TIMEOUT", 10, minimum=1)


def redis_channel_layer(url: str, prefix: str) -> dict[str, object]:
    """The Redis channel layer config used in production and in the tests that claim Redis.

    ``socket_timeout: None``: redis-py 8 otherwise drops idle consumers after 5 s (close 1011).
    The pool blocks (up to ``pool_timeout`` s) instead of raising under a burst of connections.
    """
    return {
        "BACKEND": "realtime.layers.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": url,
                    "socket_timeout": None,
                    "socket_connect_timeout": 5,
                    "max_connections": REDIS_MAX_CONNECTIONS,
                    "timeout": REDIS_POOL_TIMEOUT,
                }
            ],
            "prefix": f"{prefix}:asgi",
            "capacity": 1000,
            "expiry": 60,
        },
    }


def redis_pubsub_channel_layer(url: str, prefix: str) -> dict[str, object]:
    """Redis publish/subscribe (realtime.layers.RedisPubSubChannelLayer, on channels_redis.pubsub): the least
    work per message, measured against the core layer in tests/bench/bench_room_anchors.py. It loses what is
    published while a worker's subscription reconnects to Redis: room events come back through the seq
    repair (D24), presence and signals are sent again by the clients that reconnect."""
    return {
        "BACKEND": "realtime.layers.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": url, "socket_connect_timeout": 5}], "prefix": f"{prefix}:asgi"},
    }


if CHANNEL_LAYER_BACKEND == "redis":
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL or "", REDIS_PREFIX)}
elif CHANNEL_LAYER_BACKEND == "redis-pubsub":
    CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer(REDIS_URL or "", REDIS_PREFIX)}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The "live" cache: short-lived facts that many processes share and that are not worth a database write, e.g.
# each room member's last connection-quality report for the staff's live view (decision D54). In
# Redis when there is one (every worker sees the same value); in memory for ``make run``. The default cache is
# left as it was.
LIVE_CACHE_TTL = env_int("LIVE_CACHE_TTL", 60, minimum=5)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "live": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": f"{REDIS_PREFIX}:live", "TIMEOUT": LIVE_CACHE_TTL,
         # A Redis that is away must not hold up a room socket's disconnect or the live view's page.
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if REDIS_URL else
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "live", "TIMEOUT": LIVE_CACHE_TTL}
    ),
}

# --- Celery ------------------------------------------------------------------------------------------
# Without a broker, tasks run in-process (eagerly); callers enqueue with transaction.on_commit, so
# even the eager path runs only after the data it needs is committed.
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", REDIS_URL, schemes=("redis", "rediss", "amqp", "memory"))
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "sweep-due-timers": {
        "task": "mediation.tasks.sweep_due_timers",
        "schedule": env_int("TIMER_SWEEP_SECONDS", 60, minimum=5),
    },
    "deliver-outbox": {
        "task": "mediation.tasks.deliver_outbox",
        "schedule": env_int("OUTBOX_SWEEP_SECONDS", 10, minimum=1),
    },
    "statistics-counters": {
        "task": "mediation.tasks.statistics_counters_refresh",
        "schedule": env_int("STATISTICS_COUNTERS_SECONDS", 900, minimum=60),
    },
    "audit-checkpoint": {
        "task": "mediation.tasks.audit_checkpoint",
        "schedule": env_int("AUDIT_CHECKPOINT_SECONDS", 3600, minimum=60),
    },
}

# --- I18N / time -------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
# Each language is offered in its own name, so nobody has to read a foreign word to find theirs.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")) or "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production) ---------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No inline script, handler or style anywhere (docs/decisions.md): every script is a static file, the text it
# shows comes from /jsi18n/. 'self' covers the room's ws:/wss: socket to this host (CSP level 3).
# The SFU's WebSocket for browsers (docs/deployment.md): best served through this host (the proxy's /janus/
# location, covered by 'self'); a Janus on another origin (development: ws://127.0.0.1:8188) is named here.
SFU_CONNECT_SRC = env_list("SFU_CONNECT_SRC", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF, *SFU_CONNECT_SRC],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# No page uses these; the room's two pages (frontend/views/rooms.py: the device check and the room) allow
# camera and microphone for this origin.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in ("camera", "microphone", "display-capture", "geolocation", "payment", "usb", "serial", "hid",
                    "bluetooth", "midi", "accelerometer", "gyroscope", "magnetometer")
}

# --- The outside world, behind adapters (mediation/adapters/) ----------------------------------------
# SMS: "console" (log it; tests read mediation.adapters.sms.outbox), "file" (JSON lines, for the demo)
# or "http" (the gateway's HTTP API).
SMS_BACKEND = env_choice("SMS_BACKEND", "console" if DEBUG else "http", choices=("console", "file", "http"))
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms.log")) or "")
SMS_GATEWAY_URL = env_url("SMS_GATEWAY_URL", None, schemes=("http", "https"))
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "") or ""
SMS_SIGNATURE = env_str("SMS_SIGNATURE", "【一站调解】") or ""
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL.")

# Name-to-ID matching (legal-rules §B5): "development" (no provider; never with DEBUG off, see the system
# check mediation.E002) or "http" (the provider's API at IDENTITY_PROVIDER_URL with a bearer token).
IDENTITY_PROVIDER = env_choice("IDENTITY_PROVIDER", "development" if DEBUG else "http", choices=("development", "http"))
IDENTITY_PROVIDER_URL = env_url("IDENTITY_PROVIDER_URL", None, schemes=("http", "https"))
IDENTITY_PROVIDER_TOKEN = env_str("IDENTITY_PROVIDER_TOKEN", "") or ""

# One-time codes: lifetime, resend interval, hourly send cap, wrong tries per code, and the lock-out
# after repeated failures for one phone number.
OTP_TTL_SECONDS = env_int("OTP_TTL_SECONDS", 300, minimum=60)
OTP_RESEND_SECONDS = env_int("OTP_RESEND_SECONDS", 60, minimum=10)
OTP_MAX_SENDS_PER_HOUR = env_int("OTP_MAX_SENDS_PER_HOUR", 5, minimum=1)
OTP_MAX_ATTEMPTS_PER_CODE = env_int("OTP_MAX_ATTEMPTS_PER_CODE", 5, minimum=1)
OTP_LOCKOUT_FAILURES = env_int("OTP_LOCKOUT_FAILURES", 10, minimum=1)
OTP_LOCKOUT_SECONDS = env_int("OTP_LOCKOUT_SECONDS", 1800, minimum=60)
# Caps across numbers: codes asked from one address, and from everywhere, in an hour (SMS pumping).
OTP_MAX_SENDS_PER_ADDRESS_PER_HOUR = env_int("OTP_MAX_SENDS_PER_ADDRESS_PER_HOUR", 20, minimum=1)
OTP_MAX_SENDS_PER_HOUR_TOTAL = env_int("OTP_MAX_SENDS_PER_HOUR_TOTAL", 2000, minimum=1)

# Mediation rooms (docs/protocol.md, yizhan-room/1): join tokens and ICE servers. TURN credentials are
# coturn REST credentials (use-auth-secret) computed from ICE_TURN_SECRET, valid ICE_TURN_TTL seconds.
ROOM_TOKEN_TTL = env_int("ROOM_TOKEN_TTL", 600, minimum=30)
# Resume tokens (signed, no database): valid ROOM_RESUME_TTL seconds, refreshed on an open socket every third of
# that; a chain of resumes runs the full join again (access to the case) after ROOM_RESUME_MAX_AGE seconds.
ROOM_RESUME_TTL = env_int("ROOM_RESUME_TTL", 300, minimum=10)
ROOM_RESUME_MAX_AGE = env_int("ROOM_RESUME_MAX_AGE", 1800, minimum=60)
# Threads that run the room socket's database calls (each keeps its own connection), beside Channels' one.
ROOM_DB_THREADS = env_int("ROOM_DB_THREADS", 8, minimum=1)
ICE_STUN_URLS = env_list("ICE_STUN_URLS", [])
ICE_TURN_URLS = env_list("ICE_TURN_URLS", [])
ICE_TURN_SECRET = env_str("ICE_TURN_SECRET", "") or ""
ICE_TURN_TTL = env_int("ICE_TURN_TTL", 3600, minimum=60)
# The pre-join self-test's echo peers (realtime/echo_peer.py): at most SELFTEST_ECHO_MAX_PEERS at once in each
# ASGI process (one more is refused with 503), each closed after SELFTEST_ECHO_SECONDS.
SELFTEST_ECHO_MAX_PEERS = env_int("SELFTEST_ECHO_MAX_PEERS", 8, minimum=1)
SELFTEST_ECHO_SECONDS = env_int("SELFTEST_ECHO_SECONDS", 20, minimum=5)
# Room media (docs/protocol.md "Media: mesh or SFU"): "mesh" (peer to peer, the embedded default: no server) or
# "sfu" (Janus's videoroom; realtime/sfu.py). JANUS_ADMIN_URL is Janus's HTTP Admin API on a private address
# (the app creates rooms and adds/removes tokens through it); JANUS_WS_URL is what browsers connect to.
# JANUS_ADMIN_SECRET and JANUS_VIDEOROOM_ADMIN_KEY are the project's own (manage.py media_config writes them
# into Janus's configuration): never Debian's defaults.
ROOM_MEDIA = env_choice("MEDIA", "mesh", choices=("mesh", "sfu"))
JANUS_ADMIN_URL = env_str("JANUS_ADMIN_URL", "http://127.0.0.1:7088/admin") or ""
JANUS_WS_URL = env_str("JANUS_WS_URL", "ws://127.0.0.1:8188/") or ""
JANUS_ADMIN_SECRET = env_str("JANUS_ADMIN_SECRET", "") or ""
JANUS_VIDEOROOM_ADMIN_KEY = env_str("JANUS_VIDEOROOM_ADMIN_KEY", "") or ""
# The address Janus gathers ICE candidates on (ice_enforce_list): a concrete non-loopback address, never "lo".
JANUS_ICE_ADDRESS = env_str("JANUS_ICE_ADDRESS", "10.231.0.1") or ""
JANUS_TIMEOUT = env_int("JANUS_TIMEOUT", 5, minimum=1)
# Several Janus instances: the same number of Admin API and WebSocket URLs, in the same order; a mediation room is
# pinned to one of them by its id (realtime/sfu.py ``instance``; docs/deployment.md).
JANUS_ADMIN_URLS = env_list("JANUS_ADMIN_URLS", [JANUS_ADMIN_URL])
JANUS_WS_URLS = env_list("JANUS_WS_URLS", [JANUS_WS_URL])
# Recordings (issue 14 item 2): Janus writes its per-track .mjr files under RECORDING_SPOOL_DIR (its rec_dir,
# one sub-directory per recording; a directory Janus and the Celery worker share); the finished files go to
# MEDIA_ROOT/recordings/ (private storage, served only through a permission check).
RECORDING_SPOOL_DIR = Path(env_str("RECORDING_SPOOL_DIR", str(BASE_DIR / "var" / "recording-spool")) or "")
if len(JANUS_ADMIN_URLS) != len(JANUS_WS_URLS) or not JANUS_ADMIN_URLS:
    raise ImproperlyConfigured("JANUS_ADMIN_URLS and JANUS_WS_URLS must list the same Janus instances, in order.")
if ROOM_MEDIA == "sfu" and not DEBUG and not (JANUS_ADMIN_SECRET and JANUS_VIDEOROOM_ADMIN_KEY):
    raise ImproperlyConfigured("MEDIA=sfu needs JANUS_ADMIN_SECRET and JANUS_VIDEOROOM_ADMIN_KEY.")
if ROOM_MEDIA == "sfu":
    # The room page's janus.js opens these WebSockets: a Janus on another origin than the page's needs them in
    # connect-src (through the proxy on the same origin, 'self' already covers it).
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] += [
        f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in JANUS_WS_URLS if urlsplit(url).netloc
    ]

# E-mail: Django's backends. Development prints to the console; production names an SMTP server.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1") or "127.0.0.1"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "一站调解 <noreply@yizhan.example.cn>") or ""

# Outbox delivery: attempts before giving up, and the first retry delay (doubling each time).
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
# Days before today the statistics counters' refresh recomputes each time (late service receipts, clocks).
STATISTICS_COUNTERS_LOOKBACK_DAYS = env_int("STATISTICS_COUNTERS_LOOKBACK_DAYS", 7, minimum=1)
OUTBOX_RETRY_SECONDS = env_int("OUTBOX_RETRY_SECONDS", 30, minimum=1)

# Uploads: evidence files are checked by their content, not their name.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Days a party has to claim an application a partner organisation prepared for them (the SMS link's life).
PREPARED_APPLICATION_DAYS = env_int("PREPARED_APPLICATION_DAYS", 14, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# The API (docs/api.md): calls per client ("N/s|m|h|d"; counted in the default cache, so several processes need
# a shared cache to share the count), and whether webhooks may go to http:// on loopback (development, tests).
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "120/m") or "120/m"
API_WEBHOOK_ALLOW_HTTP_LOOPBACK = env_bool("API_WEBHOOK_ALLOW_HTTP_LOOPBACK", DEBUG)

# Signing (documents/ca.py): "local" issues per-signing event certificates from the development CA that
# `manage.py dev_ca` creates in DEV_CA_DIR; "remote" asks the production CA (documents/ca_remote.py).
SIGNING_CA = env_choice("SIGNING_CA", "local", choices=("local", "remote"))
DEV_CA_DIR = Path(env_str("DEV_CA_DIR", str(BASE_DIR / "var" / "dev-ca")) or "")
# The production CA's HTTP API (documents/ca_remote.py): base URL, bearer token (or SIGNING_CA_TOKEN_FILE),
# the PEM bundle of the roots its certificates must chain to (pinned here, never taken from the CA's answer),
# and the request timeout in seconds.
SIGNING_CA_URL = env_url("SIGNING_CA_URL", None, schemes=("http", "https"))
SIGNING_CA_TOKEN = env_str("SIGNING_CA_TOKEN", "") or ""
SIGNING_CA_ROOTS = env_str("SIGNING_CA_ROOTS", "") or ""
SIGNING_CA_TIMEOUT = env_int("SIGNING_CA_TIMEOUT", 10, minimum=1, maximum=120)
if SIGNING_CA == "remote" and not (SIGNING_CA_URL and SIGNING_CA_ROOTS):
    raise ImproperlyConfigured("SIGNING_CA=remote needs SIGNING_CA_URL and SIGNING_CA_ROOTS.")
# The public verification page (/verify/): the largest PDF it accepts. Issued documents are well under 1 MB.
VERIFY_MAX_BYTES = env_int("VERIFY_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- Audit anchor (mediation/audit_anchor.py) -------------------------------------------------------------
# The key of the keyed audit chain heads and signed checkpoints: never stored in the database, so whoever can
# write the database cannot recompute a head. Set a key of its own in production (a secrets file): the
# default, derived from SECRET_KEY, would make every head fail to verify after SECRET_KEY is rotated.
AUDIT_ANCHOR_KEY = env_str("AUDIT_ANCHOR_KEY") or hashlib.sha256(f"audit-anchor:{SECRET_KEY}".encode()).hexdigest()
if len(AUDIT_ANCHOR_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_ANCHOR_KEY must be at least 32 characters.")
# Retired anchor keys, kept only to verify the checkpoints they signed (rotation: mediation/audit_anchor.py).
AUDIT_ANCHOR_OLD_KEYS = [key for key in (env_str("AUDIT_ANCHOR_OLD_KEYS") or "").split(",") if key.strip()]
# An RFC 3161 time-stamping authority for the checkpoints (mediation/adapters/tsa.py): its URL, and the PEM file
# of the TSA certificates (or their root) a token must chain to. No URL: checkpoints are signed locally only.
AUDIT_TSA_URL = env_str("AUDIT_TSA_URL") or ""
AUDIT_TSA_TRUST = env_str("AUDIT_TSA_TRUST") or ""
AUDIT_TSA_TIMEOUT = env_int("AUDIT_TSA_TIMEOUT", 10, minimum=1)
if AUDIT_TSA_URL and not AUDIT_TSA_TRUST:
    raise ImproperlyConfigured("AUDIT_TSA_URL needs AUDIT_TSA_TRUST (the PEM of the TSA's certificates).")
# Signed checkpoints of every chain head, one JSON line each, outside the database (a WORM or backed-up path).
AUDIT_CHECKPOINT_PATH = Path(env_str("AUDIT_CHECKPOINT_PATH", str(BASE_DIR / "var" / "audit-checkpoints.jsonl")) or "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # WeasyPrint's step-by-step progress and django-axes' note on every sign-in are noise in a server log;
    # their warnings (a CSS rule ignored, a lock-out) still show.
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
}
