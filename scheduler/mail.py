"""E-mail backends: invitations with an iCalendar attachment, through the same outbox."""
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from icalendar import Calendar

from . import logs
from .services.outbox import PermanentFailure

log = logging.getLogger(__name__)

# CRLF line ends, as iCalendar requires them even inside base64; non-ASCII text is sent
# quoted-printable or base64, so no server needs to support 8BITMIME.
POLICY = SMTP.clone(cte_type="7bit")


def build_email(message, sender, domain, now):
    """The e-mail for an outbox message. Its Message-ID comes from the outbox id, so if a
    crash makes us send it again, mail systems see the same message, not a new one.

    An invitation is the text with the calendar as its alternative (``method=`` there is
    what makes Outlook and Gmail show it as an invitation), plus the same calendar as an
    ``invite.ics`` attachment for mail programs that show neither.
    """
    email = EmailMessage(policy=POLICY)
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id(message, domain)
    email.set_content(message.body)
    if message.attachment:
        method = str(Calendar.from_ical(message.attachment)["METHOD"])
        email.add_alternative(message.attachment, subtype="calendar", params={"method": method})
        email.add_attachment(
            message.attachment.encode(), maintype="application", subtype="ics",
            filename="invite.ics",
        )
    email["Content-Language"] = message.locale  # after the parts: set_content drops it
    return email


def message_id(message, domain):
    return f"<outbox-{message.id}@{domain}>"


class ConsoleMailBackend:
    """No SMTP server configured: e-mails are logged and kept in the outbox (the address and
    text, which hold the resident's name and manage link, only at DEBUG)."""

    def __init__(self, sender, domain):
        self.sender, self.domain = sender, domain

    def send(self, message, now):
        log.info("e-mail #%s to %s (%s)", message.id, logs.email(message.to), message.kind)
        log.debug("e-mail #%s to %s (%s): %s", message.id, message.to, message.subject, message.body)
        return message_id(message, self.domain)

    def lookup(self, message, since):
        """E-mail cannot be looked up; sending again reuses the Message-ID (see above)."""
        return None


class SMTPBackend(ConsoleMailBackend):
    def __init__(self, sender, domain, host, port, username="", password="", starttls=False):
        super().__init__(sender, domain)
        self.host, self.port = host, port
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message, now):
        email = build_email(message, self.sender, self.domain, now)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                if self.starttls:  # smtplib checks no certificate unless given a context
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
            if refused_for_good(error):
                raise PermanentFailure(str(error)) from error
            raise
        return email["Message-ID"]


def refused_for_good(error):
    """A 5xx answer to this message's recipient or content. Anything else (no connection,
    a 4xx, a refused login or sender address) is our setup or the server's state, and is
    retried: giving up would lose every resident's e-mail to one configuration mistake."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return error.smtp_code >= 500


def register_mail(app):
    config = app.config
    domain = config["ICS_UID_DOMAIN"]
    if config["SMTP_HOST"]:
        backend = SMTPBackend(
            config["MAIL_FROM"], domain, config["SMTP_HOST"], config["SMTP_PORT"],
            config["SMTP_USERNAME"], config["SMTP_PASSWORD"], config["SMTP_STARTTLS"],
        )
    else:
        backend = ConsoleMailBackend(config["MAIL_FROM"], domain)
    app.extensions["mail_backend"] = backend
