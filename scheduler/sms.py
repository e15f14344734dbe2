"""SMS backends: where a message from the outbox leaves the machine, or does not."""
import logging

from twilio.rest import Client

log = logging.getLogger(__name__)


class ConsoleBackend:
    """Sends nothing: logs the message. The outbox keeps it for ``flask messages``."""

    def send(self, message):
        log.info("SMS to %s (%s, %s): %s", message.to, message.kind, message.locale, message.body)
        return f"console-{message.id}"


class TwilioBackend:
    """Sends through Twilio's Messages API.

    ``http_client`` is the library's own seam: tests pass a fake there, at the very edge,
    and everything above it is the real ``twilio`` code.
    """

    def __init__(self, account_sid, auth_token, sender, http_client=None):
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.sender = sender

    def send(self, message):
        sent = self.client.messages.create(to=message.to, from_=self.sender, body=message.body)
        return sent.sid


def register_sms(app):
    config = app.config
    if config["SMS_BACKEND"] == "twilio":
        missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not config[k]]
        if missing:
            raise RuntimeError(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
        backend = TwilioBackend(
            config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_FROM"],
            http_client=config.get("TWILIO_HTTP_CLIENT"),
        )
    elif config["SMS_BACKEND"] == "console":
        backend = ConsoleBackend()
    else:
        raise RuntimeError(f"unknown SMS_BACKEND {config['SMS_BACKEND']!r}: use console or twilio")
    app.extensions["sms_backend"] = backend
