"""Weekly hours and closures as staff enter and see them: checked and turned into (unsaved)
rules; the closures and public holidays ahead.

The pages (strings from a form) and the API (JSON values) both hand their input here, so a
rule is refused for the same reason and under the same field name (``hours.0.end``) on
either. What saving a rule does is ``services.schedule``'s business.
"""
import re
from datetime import date, time, timedelta

import holidays
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Closure, Office, WeeklyHours
from .errors import InvalidInput

MAX_RULES = 50
MAX_SEATS = 50
MIN_SLOT_MINUTES = 5
MAX_REASON = 200
HOLIDAY_DAYS = 183  # how far ahead the closures page lists public holidays
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")
_WHOLE = re.compile(r"\d{1,6}")

REQUIRED = _l("This field is required.")


def clean_rules(items) -> list[WeeklyHours]:
    """The rules ``items`` describe, as transient ``WeeklyHours`` (in no session, of no
    office). Every mistake is reported at once, as ``hours.<index>.<field>``."""
    if not isinstance(items, list):
        raise InvalidInput(fields={"hours": _l("Must be a list.")})
    if len(items) > MAX_RULES:
        raise InvalidInput(fields={"hours": _l("At most %(n)d weekly hours.", n=MAX_RULES)})
    fields, rules = {}, []
    for index, item in enumerate(items):
        prefix = f"hours.{index}"
        if not isinstance(item, dict):
            fields[prefix] = _l("Must be an object.")
            continue
        rule = _clean_rule(item, prefix, fields)
        if rule is not None:
            rules.append((prefix, rule))
    _check_overlaps(rules, fields)
    if fields:
        raise InvalidInput(fields=fields)
    return [rule for _prefix, rule in rules]


def _clean_rule(item, prefix, fields):
    errors = {}
    weekday = _whole(item.get("weekday"), "weekday", 0, 6, errors,
                     _l("Use the numbers 0 (Monday) to 6 (Sunday)."))
    start, end = _time(item.get("start"), "start", errors), _time(item.get("end"), "end", errors)
    slot_minutes = _whole(item.get("slot_minutes"), "slot_minutes", MIN_SLOT_MINUTES, 24 * 60, errors)
    seats = _whole(item.get("seats"), "seats", 1, MAX_SEATS, errors)
    valid_from = _date(item.get("valid_from"), "valid_from", errors)
    valid_until = _date(item.get("valid_until"), "valid_until", errors)
    languages = _languages(item.get("languages"), errors)
    if start is not None and end is not None:
        span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if span <= 0:
            errors["end"] = _l("Must be later than the start.")
        elif slot_minutes is not None and span % slot_minutes:
            errors["slot_minutes"] = _l("The time from start to end must be a whole number of slots.")
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = _l("Must not be before the first day.")
    fields.update({f"{prefix}.{name}": message for name, message in errors.items()})
    if errors:
        return None
    return WeeklyHours(weekday=weekday, start_time=start, end_time=end, slot_minutes=slot_minutes,
                       seats=seats, valid_from=valid_from, valid_until=valid_until,
                       languages=",".join(languages))


def _check_overlaps(rules, fields):
    """Two hours of one weekday that share a minute and a day would make the same slots twice."""
    for position, (prefix, rule) in enumerate(rules):
        for _other_prefix, other in rules[:position]:
            if (rule.weekday == other.weekday and rule.start_time < other.end_time
                    and other.start_time < rule.end_time
                    and (rule.valid_from or date.min) <= (other.valid_until or date.max)
                    and (other.valid_from or date.min) <= (rule.valid_until or date.max)):
                fields[f"{prefix}.start"] = _l("Overlaps another hour on the same weekday.")
                break


def clean_closure(start_date, end_date, reason, today: date) -> Closure:
    """A transient ``Closure``; a missing end is the start (one day). No day in the past."""
    errors = {}
    start = _date(start_date, "start_date", errors, required=True)
    end = _date(end_date, "end_date", errors) or start
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        errors["reason"] = _l("Must be text.")
    elif len(reason.strip()) > MAX_REASON:
        errors["reason"] = _l("Please use at most %(n)d characters.", n=MAX_REASON)
    if start is not None and start < today:
        errors["start_date"] = _l("Must not be in the past.")
    if start is not None and end is not None and end < start:
        errors["end_date"] = _l("Must not be before the first day.")
    if errors:
        raise InvalidInput(fields=errors)
    return Closure(start_date=start, end_date=end, reason=reason.strip())


def rule_json(rule: WeeklyHours) -> dict:
    """A rule as the API and the audit log show it (times in the office's local time)."""
    return {
        "weekday": rule.weekday, "start": rule.start_time.strftime("%H:%M"),
        "end": rule.end_time.strftime("%H:%M"), "slot_minutes": rule.slot_minutes,
        "seats": rule.seats,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else None,
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else None,
        "languages": rule.language_list,
    }


def closure_json(closure: Closure) -> dict:
    return {"id": closure.id, "start_date": closure.start_date.isoformat(),
            "end_date": closure.end_date.isoformat(), "reason": closure.reason}


def upcoming_closures(office: Office, today: date) -> list[Closure]:
    """Closures that have not ended yet, soonest first."""
    return list(db.session.scalars(
        select(Closure).where(Closure.office_id == office.id, Closure.end_date >= today)
        .order_by(Closure.start_date, Closure.id)
    ))


def public_holidays(office: Office, today: date, language: str = "de",
                    days: int = HOLIDAY_DAYS) -> list[tuple[date, str]]:
    """The public holidays of the office's region in the coming months, named in
    ``language`` where the ``holidays`` package knows it (as ``slots.closed_days`` uses it)."""
    end = today + timedelta(days=days)
    calendar = holidays.country_holidays(
        "DE", subdiv=office.holiday_subdivision, years=range(today.year, end.year + 1),
        language={"en": "en_US"}.get(language, language),
    )
    return sorted((day, name) for day, name in calendar.items() if today <= day <= end)


def _whole(value, name, low, high, errors, message=None):
    """An int, or a string of digits (a form's field); anything else (a bool, a float,
    text) is a mistake."""
    if value is None or value == "":
        errors[name] = REQUIRED
        return None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        errors[name] = message or _l("Must be a whole number.")
        return None
    if not low <= value <= high:
        errors[name] = message or _l("Must be between %(low)d and %(high)d.", low=low, high=high)
        return None
    return value


def _time(value, name, errors):
    if value is None or value == "":
        errors[name] = REQUIRED
        return None
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        errors[name] = _l("Must be a time like 09:30.")
        return None
    return time(int(match[1]), int(match[2]))


def _date(value, name, errors, required=False):
    if value is None or value == "":
        if required:
            errors[name] = REQUIRED
        return None
    if isinstance(value, date):
        return value
    try:
        if not isinstance(value, str) or len(value.strip()) != 10:
            raise ValueError(value)
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[name] = _l("Must be a date like 2026-03-26.")
        return None


def _languages(value, errors):
    """Codes of the configured languages, German left out: it is spoken in every hour."""
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        errors["languages"] = _l("Must be a list.")
        return []
    offered = current_app.config["LANGUAGES"]
    unknown = sorted({code for code in value if code not in offered})
    if unknown:
        errors["languages"] = _l("Unknown language: %(codes)s", codes=", ".join(unknown)[:100])
        return []
    return [code for code in offered if code in value and code != "de"]
