"""Configuration: defaults, then environment variables of the same name, then overrides."""
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

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
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_BOOKING": "10 per minute;50 per day",
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
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["LANGUAGES"][0]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["STAFF_SESSION_MINUTES"])
    # Cookies only over HTTPS when residents and staff reach the site over HTTPS.
    secure = app.config["PUBLIC_BASE_URL"].lower().startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = (overrides or {}).get("SESSION_COOKIE_SECURE", secure)
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
