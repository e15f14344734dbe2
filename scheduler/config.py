"""Configuration: defaults, then environment variables of the same name, then overrides."""
import json
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import click

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    # SQLALCHEMY_DATABASE_URI defaults to an SQLite file in the instance folder (see load()).
    "SECRET_KEY": None,
    "TESTING": False,
    "LOG_LEVEL": "INFO",
    # Where residents reach the service; links in SMS and calendar files are built on it.
    "PUBLIC_BASE_URL": "http://localhost:5000",
    # console: messages are stored in the outbox and logged. twilio: real sends.
    "SMS_BACKEND": "console",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM": "",
    # How many reverse proxies in front of the service set X-Forwarded-For/-Proto/-Host.
    "TRUSTED_PROXIES": 0,
    # The largest request body accepted, in bytes; a larger one is answered 413 unread.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "RATELIMIT_ENABLED": True,
    # Where rate limits are counted. memory:// is per worker process (a warning at start says
    # so); in production use Redis, e.g. redis://127.0.0.1:6379/0, shared by all workers.
    "RATELIMIT_STORAGE_URI": "memory://",
    # A prefix for the limit keys, when several installations share one Redis.
    "RATELIMIT_KEY_PREFIX": "",
    # Bookings and waits made from one address (booking and waitlist, page and API share the
    # bucket; refused attempts do not count). 200 a day lets a shelter's or an office's shared
    # Wi-Fi book for everyone there; 10 a minute stops a script that grabs every seat.
    "RATELIMIT_BOOKING": "10 per minute;200 per day",
    # SMS-triggering actions (book, join, change, cancel) per phone number, so nobody can use
    # the service to flood one phone.
    "RATELIMIT_SMS_PER_NUMBER": "5 per hour",
    # Countries (ISO 3166 codes) whose mobile numbers residents may give: the service texts
    # them, and SMS-pumping fraud pays on expensive foreign numbers.
    "PHONE_COUNTRIES": ["DE", "UA", "SY", "AF", "IQ", "IR", "TR", "RO", "BG", "PL", "RU", "ER", "SO"],
    # Languages residents may choose; the first is the default.
    "LANGUAGES": ["de", "en", "ar", "fa", "uk", "ru", "tr", "ro", "bg"],
    "DEFAULT_TIMEZONE": "Europe/Berlin",
    # How far ahead slots are materialised from the weekly hours.
    "SLOT_HORIZON_DAYS": 42,
    # Residents who hold several seats "to be safe" make others wait; 0 lifts the limit.
    "MAX_UPCOMING_BOOKINGS_PER_OFFICE": 1,
    # "sms": a booking is held until the resident confirms it by the SMS link or a reply of
    # 1, and every number gets the same answer (docs/verification.md). "" (off): booked at once.
    "BOOKING_VERIFICATION": "",
    # How long a held booking keeps its seat waiting for the resident's confirmation.
    "VERIFICATION_HOLD_MINUTES": 15,
    # Minutes before the calendar app reminds the resident.
    "ICS_ALARM_MINUTES": 120,
    # The right-hand side of iCalendar UIDs; keep it stable once invites are out.
    "ICS_UID_DOMAIN": "lokal-willkommen.dortmund.de",
    # No SMS the service starts itself (offers, reminders) in these local hours; they wait
    # for the morning. Answers to a resident's own action go out at once.
    "QUIET_HOURS": "20:00-08:00",
    # How long a freed seat is held for the resident it is offered to, by how soon it is:
    # [hours ahead at least, minutes held], first match wins. A slot closer than the last
    # row is not offered: it is left for walk-ins.
    "OFFER_HOLD_POLICY": [[72, 480], [24, 180], [12, 90], [4, 30]],
    # Hours before an appointment that a reminder SMS goes out, one per entry.
    "REMINDER_LEAD_HOURS": [24],
    # Days after the appointment (or the end of a wait) that residents' personal data is kept.
    "RETENTION_DAYS": 90,
    # Minutes to wait before each new attempt after a failed send; then the message fails.
    "OUTBOX_RETRY_MINUTES": [1, 5, 15, 60, 240],
    # A message claimed for sending this long ago, and not recorded, is checked and recovered.
    "OUTBOX_STALE_MINUTES": 10,
    # The dispatcher claims up to this many due messages at once and sends them over this
    # many connections to the provider at a time.
    "OUTBOX_BATCH_SIZE": 200,
    "OUTBOX_SEND_CONCURRENCY": 4,
    # When the provider says "too many requests" (Twilio's 429), the rest of the batch waits
    # this long.
    "OUTBOX_RATE_LIMIT_PAUSE_SECONDS": 30,
    # On SQLite (no LISTEN/NOTIFY) the dispatcher looks for due messages this often.
    "OUTBOX_POLL_SECONDS": 0.25,
    # The longest the dispatcher sleeps without being woken: messages also fall due by the
    # clock (the end of quiet hours, a retry's pause).
    "OUTBOX_IDLE_SECONDS": 15,
    # SMS-pumping guard: at most this many numbers never texted before get an SMS per clock
    # hour; SMS to further new numbers wait for the next hour (never dropped). 0: no limit.
    "SMS_NEW_NUMBERS_PER_HOUR": 60,
    # The scheduler's leadership lease on SQLite (PostgreSQL holds an advisory lock instead).
    "SCHEDULER_LEASE_SECONDS": 60,
    # How often the scheduler renews its leadership and writes its heartbeat; a standby
    # checks this often whether it can take over.
    "SCHEDULER_HEARTBEAT_SECONDS": 10,
    # E-mail to residents who give an address. No SMTP_HOST: e-mails are logged, not sent.
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "lokal willkommen <termine@lokal-willkommen.dortmund.de>",
    # SQLite waits this long for a lock instead of failing with "database is locked".
    "SQLITE_BUSY_TIMEOUT_SECONDS": 15,
    # The staff workspace speaks these languages (its catalogue is de and en).
    "STAFF_LANGUAGES": ["de", "en"],
    # A staff session ends after this many minutes without a request.
    "STAFF_SESSION_MINUTES": 120,
    "STAFF_PASSWORD_MIN_LENGTH": 12,
    # What one SMS segment costs, in euros: the figures show the SMS cost of a period.
    "SMS_PRICE_PER_SEGMENT": 0.08,
    # PostgreSQL: how many connections one request for figures counts on at once, all seeing
    # the same snapshot (services.snapshot); 1 counts in the request's own transaction.
    "FIGURES_CONNECTIONS": 2,
    # Failed staff logins per client address; a successful login does not count.
    "RATELIMIT_LOGIN": "10 per minute;50 per day",
    # PostgreSQL: how long to wait for a connection, for one statement, and for a lock
    # (row, table or advisory) before giving up with an error rather than hanging.
    "DATABASE_CONNECT_TIMEOUT_SECONDS": 5,
    "DATABASE_STATEMENT_TIMEOUT_SECONDS": 30,
    "DATABASE_LOCK_TIMEOUT_SECONDS": 10,
    # The scheduler's bulk jobs (reminders, slots, purging personal data) may take longer.
    "DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS": 300,
}


def _parse(raw, default):
    """Read an environment string as the type of its default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):
        return json.loads(raw) if raw.lstrip().startswith("[") else [
            part.strip() for part in raw.split(",") if part.strip()
        ]
    return raw


def load(app, overrides=None):
    translations = str(ROOT / "translations")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'scheduler.db'}",
        # Two catalogues: the residents' (every language) and the staff workspace's (de, en).
        BABEL_TRANSLATION_DIRECTORIES=f"{translations};{translations}",
        BABEL_DOMAIN="messages;staff",
        BABEL_DEFAULT_TIMEZONE="Europe/Berlin",
        WTF_CSRF_TIME_LIMIT=None,  # a resident may take long to fill in the form
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    app.config.update(DEFAULTS)
    for key in [*DEFAULTS, "SQLALCHEMY_DATABASE_URI"]:
        if key in os.environ:
            app.config[key] = _parse(os.environ[key], DEFAULTS.get(key, ""))
    app.config.update(overrides or {})
    check(app.config)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["LANGUAGES"][0]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["STAFF_SESSION_MINUTES"])
    # Cookies only over HTTPS when residents and staff reach the site over HTTPS.
    secure = app.config["PUBLIC_BASE_URL"].lower().startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = (overrides or {}).get("SESSION_COOKIE_SECURE", secure)
    # SQLite cannot create the folder of its file: the default one lives in instance/.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance):
    """A key kept in the instance folder, so sessions survive a restart of a demo install."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# --- Refusing to start with a value that would fail quietly later ---------------------------

class ConfigurationError(click.ClickException, RuntimeError):
    """A setting the service cannot run with. The command line prints it without a traceback
    (a ClickException) and exits with 1; gunicorn's workers fail to boot with it."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("the configuration is not usable: " + "; ".join(problems))


E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Twilio's alphanumeric sender IDs: up to 11 letters, digits and spaces, at least one letter.
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
QUIET_HOURS = re.compile(r"\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*-\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*")


def check(config):
    """Every problem of the configuration at once, so one restart can fix them all."""
    problems = [problem for rule in RULES for problem in rule(config)]
    if problems:
        raise ConfigurationError(problems)


def _base_url(config):
    url = str(config["PUBLIC_BASE_URL"])
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        yield (f"PUBLIC_BASE_URL {url!r} must be an absolute http:// or https:// URL such as "
               "https://termine.example.org (links in SMS and Twilio's signatures are built on it)")


def _sms_backend(config):
    backend = config["SMS_BACKEND"]
    if backend not in ("console", "twilio"):
        yield f"unknown SMS_BACKEND {backend!r}: use console or twilio"
    if backend != "twilio":
        return
    missing = [key for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not config[key]]
    if missing:
        yield f"SMS_BACKEND=twilio needs {', '.join(missing)}"
    sid, sender = config["TWILIO_ACCOUNT_SID"], config["TWILIO_FROM"]
    if sid and not ACCOUNT_SID.fullmatch(sid):
        yield "TWILIO_ACCOUNT_SID must be AC followed by 32 hexadecimal digits (the Account SID, not an API key)"
    if sender and not (E164.fullmatch(sender) or ALPHANUMERIC_SENDER.fullmatch(sender)):
        yield (f"TWILIO_FROM {sender!r} must be a number in E.164 form (+49231...) or an alphanumeric "
               "sender ID of up to 11 letters, digits and spaces with at least one letter")


def _quiet_hours(config):
    if not QUIET_HOURS.fullmatch(str(config["QUIET_HOURS"])):
        yield f"QUIET_HOURS {config['QUIET_HOURS']!r} must be HH:MM-HH:MM in local time, e.g. 20:00-08:00"


def _languages(config):
    for key, domain in (("LANGUAGES", "messages"), ("STAFF_LANGUAGES", "staff")):
        translated = {"en", *(path.parent.parent.name
                              for path in (ROOT / "translations").glob(f"*/LC_MESSAGES/{domain}.po"))}
        chosen = list(config[key])
        unknown = [code for code in chosen if code not in translated]
        if not chosen or unknown:
            yield (f"{key} must name languages with a catalogue in translations/ "
                   f"({', '.join(sorted(translated))}); unknown: {', '.join(unknown) or 'none given'}")


def _log_level(config):
    level = config["LOG_LEVEL"]
    if not isinstance(level, int) and not isinstance(logging.getLevelName(str(level).upper()), int):
        yield f"LOG_LEVEL {config['LOG_LEVEL']!r} must be DEBUG, INFO, WARNING or ERROR"


def _figures_connections(config):
    if not isinstance(config["FIGURES_CONNECTIONS"], int) or config["FIGURES_CONNECTIONS"] < 1:
        yield f"FIGURES_CONNECTIONS {config['FIGURES_CONNECTIONS']!r} must be a whole number of at least 1"


RULES = [_base_url, _sms_backend, _quiet_hours, _languages, _log_level, _figures_connections]
