"""Which languages are spoken in an office's consultation hours, besides German.

Staff set the languages of each weekly hour (``WeeklyHours.languages``). A slot speaks the
languages of the hour it comes from, found by weekday, local time and validity (slots keep no
link to their hour: hours are edited and slots stay). German is spoken in every hour. An
office whose hours name no language at all (not set up yet) speaks what the office names.
"""
from datetime import date

from ..models import Office, Slot, WeeklyHours

GERMAN = "de"


def _with_german(codes) -> list[str]:
    return list(dict.fromkeys([GERMAN, *codes]))


def _hours_set_up(office: Office) -> bool:
    return any(rule.language_list for rule in office.hours)


def hour_of(slot: Slot, office: Office) -> WeeklyHours | None:
    """The weekly hour ``slot`` lies in: same weekday, inside its local start and end, valid
    on that day."""
    start = slot.starts_at.astimezone(office.tz)
    end = slot.ends_at.astimezone(office.tz)
    for rule in office.hours:
        if (rule.applies_on(start.date()) and rule.start_time <= start.time()
                and end.date() == start.date() and end.time() <= rule.end_time):
            return rule
    return None


def slot_languages(slot: Slot, office: Office) -> list[str]:
    if not _hours_set_up(office):
        return _with_german(office.language_list)
    rule = hour_of(slot, office)
    return _with_german(rule.language_list if rule is not None else [])


def office_languages(office: Office, today: date) -> list[str]:
    """German, then the languages of the hours that are valid today or later."""
    if not _hours_set_up(office):
        return _with_german(office.language_list)
    current = [rule for rule in office.hours if rule.valid_until is None or rule.valid_until >= today]
    return _with_german(code for rule in current for code in rule.language_list)


def spoken_in(slots: list[Slot], office: Office, language: str | None) -> list[Slot]:
    """The slots in whose hour ``language`` is spoken; all of them for no language."""
    if not language:
        return list(slots)
    return [slot for slot in slots if language in slot_languages(slot, office)]
