"""SMS backends: where a message from the outbox leaves the machine, or does not.

A backend sends (returning the provider's id, raising ``PermanentFailure`` when retrying
cannot help) and looks up whether a message whose send was never recorded reached the
provider after all (see ``jobs.recover_outbox``).
"""
import logging
from datetime import timedelta

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import logs
from .services.outbox import PermanentFailure
from .urls import public_url

log = logging.getLogger(__name__)

# Twilio keeps an undelivered message in its queue at most this long (1 to 36,000 seconds).
MAX_VALIDITY_SECONDS = 36000
# Twilio errors that no retry mends: the number cannot get SMS, or has unsubscribed.
UNSUBSCRIBED = 21610


class ConsoleBackend:
    """Sends nothing: logs the message. The outbox keeps it for ``flask messages``.

    At INFO the line names the message, not the person: the number masked, no text (it
    holds the resident's name and manage link); LOG_LEVEL=DEBUG shows both."""

    def send(self, message, now):
        log.info("SMS #%s to %s (%s, %s)", message.id, logs.phone(message.to), message.kind, message.locale)
        log.debug("SMS #%s to %s: %s", message.id, message.to, message.body)
        return f"console-{message.id}"

    def lookup(self, message, since):
        """Nothing left the machine, so sending again cannot reach anyone twice."""
        return None


class TwilioBackend:
    """Sends through Twilio's Messages API.

    ``http_client`` is the library's own seam: tests pass a fake there, at the very edge,
    and everything above it is the real ``twilio`` code.
    """

    def __init__(self, account_sid, auth_token, sender, http_client=None):
        self.client = Client(account_sid, auth_token,
                             http_client=http_client or TwilioHttpClient(timeout=30))
        self.sender = sender

    def send(self, message, now):
        options = {"status_callback": public_url("sms.status", message=message.id)}
        if message.valid_until is not None:
            # A message stuck at Twilio must not arrive after the hold or the appointment.
            seconds = int((message.valid_until - now).total_seconds())
            options["validity_period"] = max(1, min(seconds, MAX_VALIDITY_SECONDS))
        try:
            sent = self.client.messages.create(
                to=message.to, from_=self.sender, body=message.body, **options
            )
        except TwilioRestException as error:
            # 400 refuses this message (an invalid or unsubscribed number): no retry mends it.
            # 401, 403, 404 refuse our credentials or account, 429 and 5xx are passing: retried,
            # or one configuration mistake would lose every resident's SMS.
            if error.status == 400:
                raise PermanentFailure(f"Twilio {error.code}: {error.msg}",
                                       unsubscribed=error.code == UNSUBSCRIBED) from error
            raise
        return sent.sid

    def lookup(self, message, since):
        """Twilio's record of our message, if it took it: the latest messages to the number
        from ours, created after the claim, with the same text (each carries its own link)."""
        for sent in self.client.messages.list(to=message.to, from_=self.sender, limit=50):
            if sent.body == message.body and sent.date_created and sent.date_created >= since - timedelta(minutes=1):
                return sent.sid
        return None


def register_sms(app):
    """The backend the configuration names (``config.check`` refused anything else)."""
    config = app.config
    if config["SMS_BACKEND"] == "twilio":
        backend = TwilioBackend(
            config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], config["TWILIO_FROM"],
            http_client=config.get("TWILIO_HTTP_CLIENT"),
        )
    else:
        backend = ConsoleBackend()
    app.extensions["sms_backend"] = backend
