"""E-mail backends: invitations with an iCalendar attachment, through the same outbox."""
import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger(__name__)


def build_email(message, sender, domain):
    """The e-mail for an outbox message. Its Message-ID comes from the outbox id, so if a
    crash makes us send it again, mail systems see the same message, not a new one."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Message-ID"] = message_id(message, domain)
    email.set_content(message.body)
    if message.attachment:
        method = "CANCEL" if "METHOD:CANCEL" in message.attachment else "REQUEST"
        email.add_attachment(
            message.attachment.encode(), maintype="text", subtype="calendar",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
            params={"method": method},
        )
    return email


def message_id(message, domain):
    return f"<outbox-{message.id}@{domain}>"


class ConsoleMailBackend:
    """No SMTP server configured: e-mails are logged and kept in the outbox."""

    def __init__(self, sender, domain):
        self.sender, self.domain = sender, domain

    def send(self, message, now):
        log.info("e-mail to %s (%s): %s", message.to, message.subject, message.body)
        return message_id(message, self.domain)

    def lookup(self, message, since):
        return None


class SMTPBackend(ConsoleMailBackend):
    def __init__(self, sender, domain, host, port, username="", password="", starttls=False):
        super().__init__(sender, domain)
        self.host, self.port = host, port
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message, now):
        email = build_email(message, self.sender, self.domain)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(email)
        return email["Message-ID"]

    def lookup(self, message, since):
        """SMTP cannot tell what arrived; sending again reuses the Message-ID (see above)."""
        return None


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
