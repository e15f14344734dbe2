"""Configuration: defaults, then environment variables of the same name, then overrides."""
import json
import os
import secrets
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
}


def _parse(raw, default):
    """Read an environment string as the type of its default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        return json.loads(raw) if raw.lstrip().startswith("[") else [
            part.strip() for part in raw.split(",") if part.strip()
        ]
    return raw


def load(app, overrides=None):
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'scheduler.db'}",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
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
