"""Residents' mobile numbers, parsed and stored as E.164.

Only numbers of the countries in ``PHONE_COUNTRIES`` are accepted for SMS: the service
texts every number it is given, and SMS-pumping fraud earns on expensive foreign numbers.
"""
import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

DEFAULT_REGION = "DE"


def normalise(raw, field="phone"):
    """Return ``raw`` as E.164; German numbers may omit +49."""
    raw = (raw or "").strip()
    if not raw:
        raise InvalidInput(fields={field: _l("Please enter your mobile number.")})
    number = _valid_number(raw, field)
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(
            fields={field: _l(
                "This is a landline number. Please enter a mobile number: we confirm by SMS."
            )}
        )
    if phonenumbers.region_code_for_number(number) not in allowed_countries():
        raise InvalidInput(fields={field: _l(
            "We cannot send SMS to numbers from this country. Please enter a German mobile "
            "number, or ask at the office."
        )})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def allowed_countries():
    """The ISO 3166 codes of ``PHONE_COUNTRIES``, upper case."""
    return {code.strip().upper() for code in current_app.config["PHONE_COUNTRIES"]}


def normalise_any(raw, field="phone"):
    """Any valid number as E.164, landlines too: for finding what is stored about a number
    (a data request), where refusing a landline would only hide what is there."""
    number = _valid_number((raw or "").strip(), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid_number(raw, field):
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(fields={field: _l("This is not a valid phone number.")})
    return number
