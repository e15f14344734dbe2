"""The office calendar feed (iCalendar, RFC 5545): a pure builder, no I/O.

Staff subscribe to it in Outlook or any calendar app, which copies what it gets to other
devices and servers. So it carries as little as the day needs: the time, the first name,
the language and the topic, and never a phone number, an e-mail address or a manage link
(the link would let anyone holding the calendar cancel the appointment).

Cancelled bookings stay in the feed as ``STATUS:CANCELLED``, also marked in the summary
and free time (``TRANSP:TRANSPARENT``), because some calendar apps ignore the status of
subscribed events: staff see that someone cancelled rather than an event that vanished.
"""
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import phonenumbers
from babel import Locale, UnknownLocaleError
from flask import current_app
from icalendar import Calendar, Event, vDuration

from ..models import Booking, BookingStatus, Office
from .calendar import PRODID

# Calendar apps fetch again after this; Outlook may take longer whatever we ask.
REFRESH = timedelta(minutes=15)
EMAIL_LIKE = re.compile(r"[^\s@<>()]+@[^\s@<>()]+")
HIDDEN = "…"


def office_calendar(office: Office, bookings: Iterable[Booking], now: datetime, *, locale: str,
                    texts: Mapping[str, str]) -> bytes:
    """The office's bookings as a calendar, with labels in ``locale`` (the staff's).

    ``texts`` holds the translated labels ``appointment``, ``cancelled``, ``language`` and
    ``topic``. Each event's UID is the booking's, so an event moves when the booking moves.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"lokal willkommen {office.name}")
    calendar.add("x-wr-timezone", office.timezone)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    years = set()
    for booking in bookings:
        calendar.add_component(_event(office, booking, now, locale, texts))
        years.add(booking.slot.starts_at.year)
    if years:
        calendar.add_missing_timezones(first_date=date(min(years) - 1, 1, 1),
                                       last_date=date(max(years) + 2, 1, 1))
    return calendar.to_ical()


def _event(office, booking, now, locale, texts):
    cancelled = booking.status == BookingStatus.CANCELLED
    name = first_name(booking.name) or texts["appointment"]
    event = Event()
    event.add("uid", f"{booking.uid}@{current_app.config['ICS_UID_DOMAIN']}")
    event.add("dtstamp", now)
    event.add("sequence", booking.sequence)
    event.add("dtstart", booking.slot.starts_at.astimezone(office.tz))
    event.add("dtend", booking.slot.ends_at.astimezone(office.tz))
    event.add("summary", f"{texts['cancelled']}: {name}" if cancelled else name)
    lines = [f"{texts['language']}: {language_name(booking.locale, locale)}"]
    if topic := without_contacts(booking.topic):
        lines.append(f"{texts['topic']}: {topic}")
    event.add("description", "\n".join(lines))
    event.add("location", office.address or office.name)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def first_name(name: str) -> str:
    parts = without_contacts(name).split()
    return parts[0] if parts else ""


def without_contacts(text: str) -> str:
    """``text`` with phone numbers and e-mail addresses a resident typed into it hidden."""
    text = EMAIL_LIKE.sub(HIDDEN, text or "")
    for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, "DE"))):
        text = text[:match.start] + HIDDEN + text[match.end:]
    return text.strip()


def language_name(code: str, locale: str) -> str:
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code
