"""Settings that would fail quietly later refuse the start, and say why; https hardens."""
import subprocess
import sys

import pytest

from scheduler import create_app
from scheduler.config import ROOT, ConfigurationError

from .conftest import base_config
from .twilio_fake import ACCOUNT

TWILIO = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "secret",
          "TWILIO_FROM": "+4923150000000"}


@pytest.mark.parametrize(("overrides", "says"), [
    ({"PUBLIC_BASE_URL": "termine.example.org"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "//termine.example.org"}, "absolute http"),
    ({"PUBLIC_BASE_URL": "ftp://termine.example.org"}, "PUBLIC_BASE_URL"),
    ({**TWILIO, "TWILIO_FROM": "0231 500000"}, "TWILIO_FROM"),
    ({**TWILIO, "TWILIO_FROM": "Willkommen Dortmund"}, "TWILIO_FROM"),  # 19 characters
    ({**TWILIO, "TWILIO_FROM": "12345"}, "TWILIO_FROM"),  # no letter
    ({**TWILIO, "TWILIO_ACCOUNT_SID": "SK" + "1" * 32}, "TWILIO_ACCOUNT_SID"),
    ({**TWILIO, "TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
    ({"QUIET_HOURS": "8pm-8am"}, "QUIET_HOURS"),
    ({"LANGUAGES": ["de", "xx"]}, "LANGUAGES"),
    ({"LOG_LEVEL": "CHATTY"}, "LOG_LEVEL"),
])
def test_a_bad_setting_refuses_to_start(tmp_path, overrides, says):
    with pytest.raises(ConfigurationError, match=says):
        create_app(base_config(f"sqlite:///{tmp_path / 'x.db'}", **overrides))


@pytest.mark.parametrize("sender", ["+4923150000000", "lokal W", "LW2026"])
def test_e164_and_alphanumeric_senders_are_accepted(tmp_path, sender):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'x.db'}", **{**TWILIO, "TWILIO_FROM": sender}))
    assert app.extensions["sms_backend"].sender == sender


def test_the_command_line_says_why_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PUBLIC_BASE_URL": "termine.example.org", "SECRET_KEY": "x",
           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "PUBLIC_BASE_URL 'termine.example.org' must be an absolute" in done.stderr
    assert "Traceback" not in done.stderr


def test_https_makes_the_cookie_secure_and_sends_hsts(tmp_path):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'x.db'}", PUBLIC_BASE_URL="https://termine.example.org"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_client().get("/static/style.css") as response:  # behind a proxy: plain http
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_keeps_cookies_usable(tmp_path):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'x.db'}", PUBLIC_BASE_URL="http://localhost:5000"))
    assert app.config["SESSION_COOKIE_SECURE"] is False
    with app.test_client().get("/static/style.css") as response:
        assert "Strict-Transport-Security" not in response.headers


def test_the_instance_folder_is_made_before_sqlite_needs_it(tmp_path):
    from flask import Flask

    from scheduler import config

    app = Flask("scheduler", instance_path=str(tmp_path / "instance"))
    config.load(app, {"SECRET_KEY": "set", "PUBLIC_BASE_URL": "http://localhost:5000"})
    assert (tmp_path / "instance").is_dir()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'scheduler.db'}"
