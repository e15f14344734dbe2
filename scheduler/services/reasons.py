"""Why staff cancelled a booking or took someone off the waitlist, in their own words.

Kept on the record (``cancel_reason``, ``end_reason``) for the office and the figures, never
in the audit log: a reason may name a person.
"""
from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

REASON_MAX = 200


def clean(reason: str | None, field: str = "reason") -> str:
    """The reason, trimmed to one line; required."""
    text = " ".join((reason or "").split()) if isinstance(reason, str) else ""
    if not text:
        raise InvalidInput(fields={field: _l("Please give a reason.")})
    if len(text) > REASON_MAX:
        raise InvalidInput(fields={field: _l("Please use at most %(n)d characters.", n=REASON_MAX)})
    return text
