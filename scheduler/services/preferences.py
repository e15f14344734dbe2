"""A resident's wishes for a waitlist seat: days, a time window, a last day.

Checked against the office's hours too: a wish the office can never meet (a weekday without
hours, a window outside them, a last day before its next opening) is refused at once, not
kept waiting forever.
"""
from datetime import date, datetime, time, timedelta

from babel.dates import get_day_names
from babel.lists import format_list
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..i18n import formatting_locale, local_date
from ..models import EVERY_WEEKDAY, Office
from . import slots
from .errors import InvalidInput


def clean(weekdays, earliest, latest, before, today: date) -> dict:
    fields = {}
    mask = EVERY_WEEKDAY
    if weekdays:
        if any(not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in weekdays):
            fields["weekdays"] = _l("Use the numbers 0 (Monday) to 6 (Sunday).")
        else:
            mask = sum(1 << day for day in set(weekdays))
    window = {}
    for name, value in (("earliest", earliest), ("latest", latest)):
        if value in (None, ""):
            window[name] = None
            continue
        try:
            moment = value if isinstance(value, time) else time.fromisoformat(value)
        except (TypeError, ValueError):
            fields[name] = _l("Must be a time like 09:30.")
            continue
        window[name] = moment.hour * 60 + moment.minute
    if not fields and None not in window.values() and window["earliest"] >= window["latest"]:
        fields["latest"] = _l("Must be later than the earliest time.")
    last_day = None
    if before not in (None, ""):
        try:
            last_day = before if isinstance(before, date) else date.fromisoformat(before)
        except (TypeError, ValueError):
            fields["before"] = _l("Must be a date like 2026-03-26.")
        else:
            if last_day < today:
                fields["before"] = _l("Must not be in the past.")
    if fields:
        raise InvalidInput(fields=fields)
    return {
        "weekdays": mask, "earliest_minute": window.get("earliest"),
        "latest_minute": window.get("latest"), "last_day": last_day,
    }



def check_reachable(office: Office, wishes: dict, now: datetime) -> None:
    """Refuse wishes that no consultation hour of ``office`` can meet (422, by field)."""
    today = now.astimezone(office.tz).date()
    rules = [rule for rule in office.hours if rule.valid_until is None or rule.valid_until >= today]
    if not rules:
        return  # no hours at all yet: nothing to measure against
    fields = {}
    days = [rule for rule in rules if wishes["weekdays"] & (1 << rule.weekday)]
    if not days:
        names = get_day_names("wide", locale=formatting_locale())
        open_days = format_list([names[day] for day in sorted({r.weekday for r in rules})],
                                locale=formatting_locale())
        fields["weekdays"] = _l("The office has no consultation hours on these days. "
                                "It is open on: %(days)s.", days=open_days)
    elif not any(_fits_window(rule, wishes) for rule in days):
        field = "latest" if wishes["latest_minute"] is not None else "earliest"
        fields[field] = _l("The office has no consultation hours in this time window on the "
                           "days you chose.")
    elif wishes["last_day"] is not None:
        horizon = today + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"])
        first = _first_fitting_day(office, wishes, now, today, horizon)
        if first is not None and first > wishes["last_day"]:
            fields["before"] = _l(
                "The first consultation hour that suits you is on %(date)s. Please choose "
                "that day or a later one.", date=local_date(_noon(first, office), office))
        elif first is None and wishes["last_day"] <= horizon:
            fields["before"] = _l("The office has no consultation hours that suit you by this day.")
    if fields:
        raise InvalidInput(fields=fields)


def _fits_window(rule, wishes):
    """Does the hour have a slot inside the wished window (in minutes after midnight)?"""
    earliest, latest = wishes["earliest_minute"], wishes["latest_minute"]
    start = rule.start_time.hour * 60 + rule.start_time.minute
    end = rule.end_time.hour * 60 + rule.end_time.minute
    while start + rule.slot_minutes <= end:
        if (earliest is None or start >= earliest) and (latest is None or start + rule.slot_minutes <= latest):
            return True
        start += rule.slot_minutes
    return False


def _first_fitting_day(office, wishes, now, today, horizon):
    days = [today + timedelta(days=n) for n in range((horizon - today).days + 1)]
    for row in slots.planned_slots(office, days):
        start = row["starts_at"].astimezone(office.tz)
        end = row["ends_at"].astimezone(office.tz)
        minute, end_minute = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        if (row["starts_at"] > now and wishes["weekdays"] & (1 << start.weekday())
                and (wishes["earliest_minute"] is None or minute >= wishes["earliest_minute"])
                and (wishes["latest_minute"] is None or end_minute <= wishes["latest_minute"])):
            return start.date()
    return None


def _noon(day, office):
    return datetime.combine(day, time(12), tzinfo=office.tz)
