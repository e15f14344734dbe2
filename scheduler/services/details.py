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


def clean(name, phone, locale, email=None, topic=None):
    """Check and normalise what a resident typed; all problems at once, by field."""
    fields, clean = {}, {}
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
