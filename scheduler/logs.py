"""What the service's log may say about residents: at INFO, no numbers, addresses or links.

Call sites log ids and mask what identifies a person (``phone``, ``email``); the filter
installed by ``register_logging`` is the safety net for a line that forgets it, and for the
development server's request log, whose paths carry manage and offer tokens.
"""
import logging
import re

import phonenumbers

MASK = "•••••"

# A phone number as E.164 or as a provider's error prints it; an e-mail address; the token
# in a manage, offer, waitlist or calendar-feed path.
_PHONE = re.compile(r"\+[1-9](?: ?[0-9]){6,14}(?![0-9])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_TOKEN = re.compile(r"(/(?:b|w|a|bookings|waitlist|offers|feed)/)[A-Za-z0-9_-]{12,}")


def phone(number):
    """``+4915112345667`` as ``+49 ••••• 67``: the country and the last two digits."""
    if not number:
        return ""
    digits = re.sub(r"\D", "", str(number))
    if len(digits) < 6:
        return MASK
    try:
        country = phonenumbers.parse(str(number), None).country_code
    except Exception:  # not parseable as E.164: show no country rather than a wrong one
        return f"{MASK} {digits[-2:]}"
    return f"+{country} {MASK} {digits[-2:]}"


def email(address):
    """``amira@example.org`` as ``•••••@example.org``: the provider, not the person."""
    if not address or "@" not in address:
        return MASK
    return f"{MASK}@{address.rsplit('@', 1)[1]}"


def redact(text):
    text = _TOKEN.sub(lambda match: match.group(1) + MASK, text)
    text = _EMAIL.sub(lambda match: email(match.group(0)), text)
    return _PHONE.sub(lambda match: phone(match.group(0)), text)


class RedactingFilter(logging.Filter):
    """Masks numbers, e-mail addresses and tokens in records below DEBUG's detail."""

    def filter(self, record):
        if record.levelno > logging.DEBUG:
            message = record.getMessage()
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def register_logging(app):
    """The level of our loggers, and the filter on them and on the development server's."""
    app.logger.setLevel(app.config["LOG_LEVEL"])  # "scheduler": the parent of our loggers
    # A logger's own filters see only the records logged on it; a handler's see those its
    # children pass up too.
    targets = [*app.logger.handlers, logging.getLogger("werkzeug"), app.logger]
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
