"""What residents type about themselves, checked and normalised."""
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from . import phones
from .errors import InvalidInput

NAME_MAX = 100
TOPIC_MAX = 500
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Control characters (PostgreSQL refuses NUL; the others only garble SMS and pages) and
# lone surrogates (no encoding can store them); line breaks and tabs are text.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
FORBIDDEN_OR_WHITESPACE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
FORBIDDEN_MESSAGE = _l("This text contains characters that are not allowed.")


def has_forbidden_characters(text, allow_whitespace=True):
    """True for text no field may hold; ``allow_whitespace=False`` also refuses line breaks
    and tabs (tokens, slugs, one-line values)."""
    pattern = FORBIDDEN if allow_whitespace else FORBIDDEN_OR_WHITESPACE
    return isinstance(text, str) and pattern.search(text) is not None


def clean(name, phone, locale, email=None, topic=None):
    """Check and normalise what a resident typed; all problems at once, by field."""
    fields, clean = {}, {}
    typed = {"name": name, "phone": phone, "email": email, "topic": topic}
    for field, text in typed.items():
        if has_forbidden_characters(text, allow_whitespace=field in ("name", "topic")):
            fields[field] = FORBIDDEN_MESSAGE
    if fields:  # nothing else can be judged of such text
        raise InvalidInput(fields=fields)
    clean["name"] = " ".join((name or "").split())
    if not clean["name"]:
        fields["name"] = _l("Please enter your name.")
    elif len(clean["name"]) > NAME_MAX:
        fields["name"] = _nl("Please use at most %(num)d character.",
                             "Please use at most %(num)d characters.", NAME_MAX)
    try:
        clean["phone"] = phones.normalise(phone)
    except InvalidInput as error:
        fields.update(error.fields)
    if locale not in current_app.config["LANGUAGES"]:
        fields["locale"] = _l("This language is not offered.")
    clean["locale"] = locale
    clean["email"] = (email or "").strip() or None
    if clean["email"] and (len(clean["email"]) > 254 or not EMAIL_PATTERN.match(clean["email"])):
        fields["email"] = _l("This is not a valid e-mail address.")
    clean["topic"] = (topic or "").strip()
    if len(clean["topic"]) > TOPIC_MAX:
        fields["topic"] = _nl("Please use at most %(num)d character.",
                              "Please use at most %(num)d characters.", TOPIC_MAX)
    if fields:
        raise InvalidInput(fields=fields)
    return clean
