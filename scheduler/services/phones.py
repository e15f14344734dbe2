"""Residents' mobile numbers, parsed and stored as E.164."""
import phonenumbers
from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

DEFAULT_REGION = "DE"


def normalise(raw, field="phone"):
    """Return ``raw`` as E.164; German numbers may omit +49."""
    raw = (raw or "").strip()
    if not raw:
        raise InvalidInput(fields={field: _l("Please enter your mobile number.")})
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(fields={field: _l("This is not a valid phone number.")})
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(
            fields={field: _l(
                "This is a landline number. Please enter a mobile number: we confirm by SMS."
            )}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

