"""LibDesk settings: one module, read from the environment.

With no environment at all this is the embedded demo: SQLite (WAL), the in-memory
channel layer, eager Celery and email to the console. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis (channel layer, Celery broker, cache) so
that several Daphne processes and Celery workers share them. Every variable is listed
in ``.env.example``.
"""

import json
import os
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LIBDESK_VAR_DIR", BASE_DIR / "var"))


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
# Production mode is "real services configured"; the demo needs none of them.
PRODUCTION = bool(DATABASE_URL and REDIS_URL) and not env_bool("LIBDESK_EMBEDDED")

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if env_bool("LIBDESK_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is empty. Set it in the env file (.env) to a long random string: "
            'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    # The embedded demo only: a fixed, clearly marked key. Production sets SECRET_KEY.
    SECRET_KEY = "insecure-libdesk-demo-key-set-SECRET_KEY-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Sites allowed to embed the patron widget (its iframe's frame-ancestors). "*" = any.
WIDGET_ALLOWED_EMBEDDERS = env_list("WIDGET_ALLOWED_EMBEDDERS", ["*"])
# The public base URL of this desk, used in embed snippets and emails.
LIBDESK_PUBLIC_URL = env_str("LIBDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# The library's name and the address its emails come from: one setting each, used in
# the header, the sample page, canned-message placeholders and every email. The defaults
# are the demo's library (make demo).
LIBRARY_NAME = env_str("LIBRARY_NAME", "Riverside University Library")
LIBRARY_EMAIL = env_str("LIBRARY_EMAIL", "ask@library.example")

INSTALLED_APPS = [
    "daphne",
    # Before the admin, as django-modeltranslation asks: departments' greeting and
    # offline message per language (chat/translation.py).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "crispy_forms",
    "crispy_bootstrap5",
    "chat",
    "tickets",
    "analytics",
    "anymail",
    "history",  # Chat History, patron context, Block (issue 20): reads chat, tickets, analytics
    "supervisor",  # the supervisor's view (issue 20)
]

MIDDLEWARE = [
    # First: an address too long is answered before anything parses it (414 page).
    "libdesk.request_limits.LongUrlMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The staff's language: their dashboard preference (a cookie), else the browser's.
    # The widget decides its own (libdesk.i18n.widget_language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After log in, a new browser follows the operator's kept language (libdesk.i18n).
    "libdesk.i18n.OperatorLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "libdesk.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a login attempt while its username+address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # no log of successful logins (and their addresses)
AXES_VERBOSE = False

ROOT_URLCONF = "libdesk.urls"
WSGI_APPLICATION = "libdesk.wsgi.application"
ASGI_APPLICATION = "libdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "libdesk.i18n.context",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.library",
                "chat.context_processors.admin_link",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
# PostgreSQL through a connection pool (psycopg_pool, Django's OPTIONS["pool"]), not
# persistent per-thread connections: under ASGI Django runs every request in a thread
# of its own (ThreadSensitiveContext), so a persistent connection is opened per request
# and left behind with its thread. The pool hands each request and each socket frame a
# connection that is already open, and bounds how many there are.
CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 0)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=CONN_MAX_AGE,
            # A connection broken while idle (PostgreSQL restarted, network cut) is
            # checked and replaced before use, not handed to a request or a frame: the
            # pool checks on checkout (psycopg_pool check_connection), persistent
            # connections once per request.
            conn_health_checks=env_bool("DB_HEALTH_CHECKS", True),
        )
    }
    if CONN_MAX_AGE == 0 and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool(
        "DB_PREPARE_MESSAGE_STATEMENTS", True
    ):
        # psycopg prepares a statement a connection has run this often; only cursors
        # that bind on the server use it (the message path's: chat.services._common).
        # Off (=0) for a PgBouncer older than 1.21 in transaction mode.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "libdesk.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE: writers take the lock at BEGIN, so two writers queue on the
                # busy timeout instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory: consumer tests reach the database from several threads.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(VAR_DIR / "test.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The entries' indexes by department, mode and location carry the figures' columns for
# PostgreSQL's index-only scans (analytics.models.Interaction); elsewhere they are plain
# indexes, and Django's warning that those columns are left out says nothing to act on.
SILENCED_SYSTEM_CHECKS = (
    [] if DATABASES["default"]["ENGINE"].endswith("postgresql") else ["models.W040"]
)

# --- Channel layer ------------------------------------------------------------------
# pubsub (RedisPubSubChannelLayer) is the default: our delivery guarantee lives in the
# database (sequence numbers + resume), so we need the lowest-latency fan-out, not
# Redis-side buffering. Figures behind the choice: docs/operations.md.
CHANNEL_LAYER_KIND = env_str("CHANNEL_LAYER", "pubsub" if REDIS_URL else "memory")
CHANNELS_PREFIX = env_str("CHANNELS_PREFIX", "libdesk")
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 2000)
if REDIS_URL and CHANNEL_LAYER_KIND == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's pub/sub layer, its publishes pipelined (libdesk.channel_layer).
            "BACKEND": "libdesk.channel_layer.PipelinedPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Idle consumers must never be timed out by the client socket.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 30,
                        "retry_on_timeout": True,
                    }
                ],
                "prefix": CHANNELS_PREFIX,
            },
        }
    }
elif REDIS_URL and CHANNEL_LAYER_KIND == "core":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Stock redis-py + channels-redis: a 100-connection pool and a 5 s
                        # socket timeout equal to the 5 s BRPOP, which kills idle readers.
                        "max_connections": REDIS_MAX_CONNECTIONS,
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 30,
                    }
                ],
                "prefix": CHANNELS_PREFIX,
                # Stock capacity (100) drops silently under load; the DB still has
                # everything, but keep the live path from dropping in the first place.
                "capacity": env_int("CHANNEL_CAPACITY", 5000),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 5000), "expiry": 60},
        }
    }

# --- Cache --------------------------------------------------------------------------
# A cache call that hangs (Redis stuck, packets dropped) must not hang a patron's
# message: each gives up after REDIS_CACHE_TIMEOUT seconds, and the rate limits then fail
# open (chat/ratelimit.py). The channel layer's blocking reads are configured apart, above.
REDIS_CACHE_OPTIONS = {
    "socket_timeout": env_int("REDIS_CACHE_TIMEOUT", 2),
    "socket_connect_timeout": env_int("REDIS_CACHE_TIMEOUT", 2),
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNELS_PREFIX,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------
# Empty (as an env file's "CELERY_BROKER_URL=" passes it) means unset: Redis, not
# Celery's own default of amqp://guest@localhost.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Several desks (or test runs) sharing one Redis keep their tasks apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# --- Email --------------------------------------------------------------------------
EMAIL_URL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
EMAIL_BACKEND = EMAIL_URL_BACKENDS.get(env_str("EMAIL_BACKEND", "console"), "console")
if EMAIL_BACKEND not in EMAIL_URL_BACKENDS.values():
    EMAIL_BACKEND = env_str("EMAIL_BACKEND")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Emails come from the library, by name: "Riverside University Library <ask@library.example>".
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{LIBRARY_NAME} <{LIBRARY_EMAIL}>")

# --- Auth, i18n, static ---------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:dashboard"
LOGOUT_REDIRECT_URL = "login"

# The library's default language: what a patron or operator gets when nothing they
# send names a language we ship. One of LANGUAGES.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# The languages the desk ships (catalogs in locale/, compiled by `manage.py
# compile_catalogs` at install). Names in their own language, for the language pickers.
LANGUAGES = [("en", "English"), ("es", "Español"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "locale"]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}."
    )
# django-modeltranslation: a translated field falls back to the default language.
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_FALLBACK_LANGUAGES = (LANGUAGE_CODE,)
# The staff's interface language, as chosen on the dashboard (django.views.i18n.set_language).
LANGUAGE_COOKIE_NAME = "libdesk_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Until collectstatic has run, WhiteNoise serves from the finders (an empty root is fine).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Without collectstatic (demo, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
if PRODUCTION and env_bool("STATIC_MANIFEST", True):
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "libdesk.storage.StaticStorage"},
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_str("SECURE_PROXY_SSL_HEADER"):
    # e.g. "HTTP_X_FORWARDED_PROTO,https" behind a TLS-terminating proxy.
    SECURE_PROXY_SSL_HEADER = tuple(env_str("SECURE_PROXY_SSL_HEADER").split(",", 1))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_str("SECURE_HSTS_PRELOAD").strip() == "0":
    # Said on purpose: preloading binds the whole registrable domain (the university's)
    # to HTTPS in every browser, a decision for its owner, not for the desk; check
    # --deploy's reminder (security.W021) has been answered.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Reverse proxies allowed to say who the client is (X-Forwarded-For) and how it came
# (X-Forwarded-Proto): a count of proxies in front ("1": our nginx) or a list of their
# addresses/networks; empty: none. Pages and sockets read it alike (libdesk/proxy.py).
TRUSTED_PROXIES = env_str("TRUSTED_PROXIES")

# --- The desk ---------------------------------------------------------------------------
LIBDESK = {
    # Longest message body accepted from a patron or operator, in characters.
    "MAX_MESSAGE_LENGTH": env_int("MAX_MESSAGE_LENGTH", 4000),
    # Largest websocket frame accepted, in bytes (checked before JSON parsing).
    "MAX_FRAME_BYTES": env_int("MAX_FRAME_BYTES", 16384),
    # Longest page address (path + query) answered, in bytes; longer gets a 414 page.
    # Daphne itself reads at most 16 KB of request line and headers.
    "MAX_URL_BYTES": env_int("MAX_URL_BYTES", 8192),
    # Seconds a patron socket may stay open without saying hello (or watch); then it
    # is closed with code 4408 (0: never).
    "HELLO_TIMEOUT_SECONDS": env_int("HELLO_TIMEOUT_SECONDS", 10),
    # Seconds after an operator's last dashboard socket closes before they go Offline.
    "PRESENCE_GRACE_SECONDS": env_int("PRESENCE_GRACE_SECONDS", 20),
    # Seconds between dashboard heartbeats; a connection silent for 3x this is stale.
    "HEARTBEAT_SECONDS": env_int("HEARTBEAT_SECONDS", 25),
    # How many messages a (re)connecting client is sent at most per history frame.
    "HISTORY_PAGE": env_int("HISTORY_PAGE", 500),
    # Presence and transfers (issue 4). An Online operator without dashboard activity
    # for this long is set to Away (with a notice).
    "IDLE_AWAY_SECONDS": env_int("IDLE_AWAY_SECONDS", 600),
    # A transfer nobody claims within this time returns to the operator who offered it.
    "TRANSFER_TIMEOUT_SECONDS": env_int("TRANSFER_TIMEOUT_SECONDS", 120),
    # The desk-wide sweep (stale presence, idle, end of shift, overdue transfers) runs at
    # most this often from dashboard heartbeats, and on this period in Celery beat.
    "SWEEP_SECONDS": env_int("SWEEP_SECONDS", 30),
    # Threads that run the websockets' database calls in each process (chat.consumers.support),
    # each with a connection it keeps: several on PostgreSQL, so that different chats'
    # messages are written at once; one on SQLite, which has one writer at a time.
    "SOCKET_DB_THREADS": env_int(
        "SOCKET_DB_THREADS", 4 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 1
    ),
    # Message sends per process running at once (at most SOCKET_DB_THREADS); past that
    # they queue, and each next call stores up to MESSAGE_BATCH_SIZE of them in one
    # statement on PostgreSQL (chat.consumers.sends.SendBatches).
    "MESSAGE_BATCH_CALLS": env_int("MESSAGE_BATCH_CALLS", 2),
    "MESSAGE_BATCH_SIZE": env_int("MESSAGE_BATCH_SIZE", 32),
}
# Periodic tasks (celery beat). The embedded mode has no beat: dashboard heartbeats run
# the same sweep, and `manage.py desk_sweep` runs it from cron.
CELERY_BEAT_SCHEDULE = {
    "chat-desk-sweep": {
        "task": "chat.tasks.desk_sweep",
        "schedule": float(LIBDESK["SWEEP_SECONDS"]),
    },
    # Chats, and the steps tickets and analytics register (chat.extensions.register_retention).
    "chat-retention": {"task": "chat.tasks.apply_retention", "schedule": 3600.0},
    # Replies left 'queued' while the broker was down are queued again.
    "tickets-requeue-stale-replies": {
        "task": "tickets.tasks.requeue_stale_replies",
        "schedule": 300.0,
    },
    # Reference Analytics' figures kept per day (analytics.rollups): reports over a term
    # or a year read them instead of every entry.
    "analytics-report-days": {"task": "analytics.tasks.build_report_days", "schedule": 3600.0},
}

# --- Tickets (follow-up by email) -------------------------------------------------------
TICKETS = {
    # Shared secret of the inbound-mail webhook (header X-LibDesk-Secret). Empty: refused.
    "INBOUND_SECRET": env_str("TICKETS_INBOUND_SECRET"),
    # Reply-To of ticket emails; "{reference}" becomes e.g. LD-000123 (plus-addressing).
    "REPLY_TO": env_str("TICKETS_REPLY_TO") or "desk+{reference}@library.example",
    # The queue (department slug) of inbound mail that matches no ticket.
    "DEFAULT_QUEUE": env_str("TICKETS_DEFAULT_QUEUE") or "reference",
    # Offline question form: at most this many tickets per sender (email or IP) per window.
    "OFFLINE_FORM_LIMIT": env_int("TICKETS_OFFLINE_FORM_LIMIT", 5),
    "OFFLINE_FORM_WINDOW_SECONDS": env_int("TICKETS_OFFLINE_FORM_WINDOW_SECONDS", 3600),
    # Sending an email is retried this many times (exponential backoff) before "failed".
    "EMAIL_MAX_RETRIES": env_int("TICKETS_EMAIL_MAX_RETRIES", 5),
    # Largest inbound attachment kept, in bytes (larger ones are noted, not stored).
    "MAX_ATTACHMENT_BYTES": env_int("TICKETS_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024),
    # Provider webhooks (tickets/provider_inbound.py): a signed request older than this
    # is refused (Mailgun's timestamp, a Mailgun token is taken once within twice this).
    "WEBHOOK_MAX_AGE_SECONDS": env_int("TICKETS_WEBHOOK_MAX_AGE_SECONDS", 86400),
    # Where SNS signing certificates and subscription URLs may come from (a regex).
    "SNS_URL_PATTERN": env_str("TICKETS_SNS_URL_PATTERN")
    or r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/",
}
# Hosted providers' inbound webhooks (django-anymail's views, docs/operations.md):
# WEBHOOK_SECRET is the "user:password" put in each provider's webhook URL (required:
# SendGrid and Postmark sign nothing else); Mailgun's HMAC key is its signing key.
ANYMAIL = {
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET"),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY"),
}
# Uploaded files (ticket attachments). Never served by URL: staff download them through
# a permission-checked view.
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(VAR_DIR / "media")

# --- Privacy: retention periods (days after a chat ended) --------------------------------
RETENTION = {
    # Transcripts (messages, attachments) are deleted this long after the chat ended.
    "TRANSCRIPT_DAYS": env_int("RETENTION_TRANSCRIPT_DAYS", 365),
    # Patron names, emails and page addresses are scrubbed this long after it ended.
    "PATRON_DAYS": env_int("RETENTION_PATRON_DAYS", 90),
    # Reference Analytics entries lose their free text (question, answer, internal note)
    # this long after the interaction; counts and choices stay. Default: as transcripts.
    "ANALYTICS_TEXT_DAYS": env_int(
        "RETENTION_ANALYTICS_TEXT_DAYS", env_int("RETENTION_TRANSCRIPT_DAYS", 365)
    ),
}

# --- Patron rate limits (per address or per chat; counted in the shared cache) ----------
LIBDESK_LIMITS = {
    # New chats one address may start per window. A campus or a public library often
    # sends every patron through one address (NAT): keep this generous there.
    "CHATS_PER_ADDRESS": env_int("LIMIT_CHATS_PER_ADDRESS", 20),
    "CHATS_WINDOW_SECONDS": env_int("LIMIT_CHATS_WINDOW_SECONDS", 600),
    # Messages a patron may send in one chat per minute.
    "PATRON_MESSAGES_PER_MINUTE": env_int("LIMIT_PATRON_MESSAGES_PER_MINUTE", 30),
    # Patron sockets one address may hold open at once, across every Daphne process
    # (chat.socket_limits; 0: no limit). Behind NAT a whole campus is one address.
    "SOCKETS_PER_ADDRESS": env_int("LIMIT_SOCKETS_PER_ADDRESS", 100),
    # How long a counted socket's place lasts unless its process renews it: the longest
    # the sockets of a killed process keep counting.
    "SOCKET_LEASE_SECONDS": env_int("LIMIT_SOCKET_LEASE_SECONDS", 60),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {"django.channels.server": {"level": env_str("ACCESS_LOG_LEVEL", "WARNING")}},
}


# --- Reference Analytics and email transcripts (issue 6) ---------------------------------
# Most times one chat's transcript may be emailed (staff and patron requests together).
LIBDESK["TRANSCRIPT_EMAILS_PER_CHAT"] = env_int("TRANSCRIPT_EMAILS_PER_CHAT", 5)
# The dashboard lists an operator's ended chats without statistics from this many days.
LIBDESK["ANALYTICS_PENDING_DAYS"] = env_int("ANALYTICS_PENDING_DAYS", 30)

# --- The patron's side (issue 7): attachments and screenshare ----------------------------
# Files sent in chats: the largest accepted, and the types allowed. The type is decided
# by the file's content (chat.filetypes), never its name; SVG, HTML, scripts and
# programs are always refused. Names: png jpeg gif webp pdf text csv docx xlsx pptx odt
# ods odp.
ATTACHMENTS = {
    "MAX_BYTES": env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
    "ALLOWED_TYPES": [
        t.strip()
        for t in (
            env_str("ATTACHMENT_TYPES")
            or "png,jpeg,gif,webp,pdf,text,csv,docx,xlsx,pptx,odt,ods,odp"
        ).split(",")
        if t.strip()
    ],
    # Files one chat may hold, and uploads one chat may make per minute.
    "PER_CHAT": env_int("ATTACHMENTS_PER_CHAT", 20),
    "PER_MINUTE": env_int("ATTACHMENTS_PER_MINUTE", 6),
}
# Built-in screenshare (WebRTC): ICE servers as JSON, e.g.
# [{"urls": "stun:stun.example.org:3478"}, {"urls": "turn:turn.example.org", "username":
# "u", "credential": "p"}]. Empty: only direct connections (loopback, LAN) — nothing
# leaves for a third party.
SCREENSHARE_ICE_SERVERS = json.loads(env_str("SCREENSHARE_ICE_SERVERS") or "[]")
# Meeting-link screenshare: an operator's personal meeting URL, else this template with
# {room} replaced by a random room name.
SCREENSHARE_MEETING_TEMPLATE = (
    env_str("SCREENSHARE_MEETING_TEMPLATE") or "https://meet.jit.si/libdesk-{room}"
)

# --- Campus sign-in (issue 18): LDAP, SAML 2.0, OpenID Connect -------------------------
# Each provider is off until its variables are set (.env.example, docs/operations.md,
# "Campus sign-in"); chat.sign_in reads this dict at each sign-in.
INSTALLED_APPS += ["djangosaml2"]
# After the session middleware: djangosaml2 keeps its request state in a session of its own.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "djangosaml2.middleware.SamlSessionMiddleware",
)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Desk passwords: everyone's, or (LOCAL_LOGIN=superusers) the break-glass superuser's:
    # the gate stops a desk password of anyone else before ModelBackend sees it. Campus
    # accounts have none (an account the campus takes over loses its password).
    "chat.sign_in.local.LocalPasswordGate",
    "django.contrib.auth.backends.ModelBackend",
    # Only where django-auth-ldap is installed (the "ldap" extra: it builds python-ldap).
    *(["chat.sign_in.ldap.CampusLDAPBackend"] if find_spec("django_auth_ldap") else []),
    "chat.sign_in.saml.CampusSaml2Backend",
    "chat.sign_in.oidc.CampusOIDCBackend",
]
CAMPUS_SIGN_IN = {
    # "everyone": desk passwords work for every account; "superusers": only for
    # superusers (the break-glass account), everyone else signs in with the campus.
    "LOCAL_LOGIN": env_str("LOCAL_LOGIN", "everyone"),
    # A desk session begun through the campus lasts at most this long; then the person
    # signs in again at the identity provider (which refuses them if they were disabled).
    "SESSION_SECONDS": env_int("CAMPUS_SESSION_SECONDS", 8 * 3600),
    # The directory (LDAP) is asked again about everyone who signed in through it this
    # often: a disabled account or a group removal ends their sessions then.
    "RECHECK_SECONDS": env_int("CAMPUS_RECHECK_SECONDS", 300),
    "LDAP": {
        "SERVER_URI": env_str("LDAP_SERVER_URI"),  # e.g. ldaps://ldap.campus.example
        "BIND_DN": env_str("LDAP_BIND_DN"),
        "BIND_PASSWORD": env_str("LDAP_BIND_PASSWORD"),
        "START_TLS": env_bool("LDAP_START_TLS", False),
        "USER_BASE": env_str("LDAP_USER_BASE"),
        # Active Directory (disabled accounts left out): see .env.example.
        "USER_FILTER": env_str("LDAP_USER_FILTER", "(uid=%(user)s)"),
        "GROUP_BASE": env_str("LDAP_GROUP_BASE"),
        "GROUP_FILTER": env_str("LDAP_GROUP_FILTER", "(objectClass=groupOfNames)"),
        # groupOfNames, groupOfUniqueNames, posixGroup, activeDirectory, nestedActiveDirectory
        "GROUP_TYPE": env_str("LDAP_GROUP_TYPE", "groupOfNames"),
        "ATTR_FIRST_NAME": env_str("LDAP_ATTR_FIRST_NAME", "givenName"),
        "ATTR_LAST_NAME": env_str("LDAP_ATTR_LAST_NAME", "sn"),
        "ATTR_EMAIL": env_str("LDAP_ATTR_EMAIL", "mail"),
        "TIMEOUT": env_int("LDAP_TIMEOUT", 10),
    },
    "SAML": {
        # The button's words: "Sign in with <NAME>".
        "NAME": env_str("SAML_NAME", "Campus SSO"),
        # The IdP's metadata: a URL (fetched at sign-in) or a file.
        "IDP_METADATA_URL": env_str("SAML_IDP_METADATA_URL"),
        "IDP_METADATA_FILE": env_str("SAML_IDP_METADATA_FILE"),
        # Empty: <LIBDESK_PUBLIC_URL>/sso/saml/metadata/ (what the IdP registers).
        "SP_ENTITY_ID": env_str("SAML_SP_ENTITY_ID"),
        # Optional key pair: signs requests and logouts, decrypts encrypted assertions.
        "SP_KEY_FILE": env_str("SAML_SP_KEY_FILE"),
        "SP_CERT_FILE": env_str("SAML_SP_CERT_FILE"),
        "ATTR_USERNAME": env_str("SAML_ATTR_USERNAME", "uid"),
        "ATTR_FIRST_NAME": env_str("SAML_ATTR_FIRST_NAME", "givenName"),
        "ATTR_LAST_NAME": env_str("SAML_ATTR_LAST_NAME", "sn"),
        "ATTR_EMAIL": env_str("SAML_ATTR_EMAIL", "mail"),
        "ATTR_GROUPS": env_str("SAML_ATTR_GROUPS", "isMemberOf"),
        "XMLSEC_BINARY": env_str("SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1"),
    },
    "OIDC": {
        "NAME": env_str("OIDC_NAME", "Campus account"),
        "ISSUER": env_str("OIDC_ISSUER"),
        "CLIENT_ID": env_str("OIDC_CLIENT_ID"),
        "CLIENT_SECRET": env_str("OIDC_CLIENT_SECRET"),
        # From the provider's /.well-known/openid-configuration:
        "AUTHORIZATION_ENDPOINT": env_str("OIDC_AUTHORIZATION_ENDPOINT"),
        "TOKEN_ENDPOINT": env_str("OIDC_TOKEN_ENDPOINT"),
        "USERINFO_ENDPOINT": env_str("OIDC_USERINFO_ENDPOINT"),
        "JWKS_ENDPOINT": env_str("OIDC_JWKS_ENDPOINT"),
        "END_SESSION_ENDPOINT": env_str("OIDC_END_SESSION_ENDPOINT"),
        "SCOPES": env_str("OIDC_SCOPES", "openid email profile"),
        "SIGN_ALGO": env_str("OIDC_SIGN_ALGO", "RS256"),
        "ATTR_USERNAME": env_str("OIDC_CLAIM_USERNAME", "preferred_username"),
        "ATTR_GROUPS": env_str("OIDC_CLAIM_GROUPS", "groups"),
    },
}
# djangosaml2 builds its configuration per request (chat.sign_in.saml.sp_config), so the
# ACS URL follows the address the browser used (behind the proxy: SECURE_PROXY_SSL_HEADER).
SAML_CONFIG_LOADER = "chat.sign_in.saml.sp_config"
SAML_CSP_HANDLER = ""  # our ContentSecurityPolicyMiddleware sets the policy
SAML_SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"
SAML_DJANGO_USER_MAIN_ATTRIBUTE = "username"
SAML_CREATE_UNKNOWN_USER = True
SAML_ATTRIBUTE_MAPPING = {"uid": ("username",)}  # unused: chat.sign_in.saml maps
# mozilla-django-oidc reads its provider's endpoints and client from CAMPUS_SIGN_IN["OIDC"]
# (chat.sign_in.oidc); authorization code + PKCE (S256).
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the hint for logging out at the provider
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
CELERY_BEAT_SCHEDULE["chat-campus-recheck"] = {
    "task": "chat.tasks.campus_recheck",
    "schedule": float(CAMPUS_SIGN_IN["RECHECK_SECONDS"]),
}
