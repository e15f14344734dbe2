"""iCalendar (RFC 5545) files for bookings: pure builders, no I/O.

``PUBLISH`` is the file residents download. ``REQUEST`` and ``CANCEL`` are the invitation
and its cancellation sent by e-mail; iTIP (RFC 5546) wants an organizer and an attendee in
those, and no alarm in a cancellation.
"""
from datetime import date, timedelta
from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress

from ..models import BookingStatus
from ..urls import public_url

PRODID = "-//Stadt Dortmund//lokal willkommen booking//EN"


def booking_calendar(booking, now, method="PUBLISH"):
    """The booking as a calendar with one event, in the resident's language.

    The UID is the booking's and stays the same when the booking changes; ``SEQUENCE``
    rises with every change, so calendar apps update the event instead of adding another.
    """
    office, slot = booking.office, booking.slot
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    with force_locale(booking.locale):
        event = Event()
        event.add("uid", f"{booking.uid}@{current_app.config['ICS_UID_DOMAIN']}")
        event.add("dtstamp", now)
        event.add("sequence", booking.sequence)
        event.add("dtstart", slot.starts_at.astimezone(office.tz))
        event.add("dtend", slot.ends_at.astimezone(office.tz))
        event.add("summary", _("Appointment at lokal willkommen %(office)s", office=office.name))
        event.add("location", office.address or office.name)
        event.add("url", public_url("public.manage", token=booking.token))
        event.add("description", _event_description(booking))
        cancelled = method == "CANCEL" or booking.status == BookingStatus.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        if method in ("REQUEST", "CANCEL"):
            event.add("organizer", _organizer(office))
            event.add("attendee", _attendee(booking))
        if method != "CANCEL":
            event.add_component(_alarm(office))
    calendar.add_component(event)
    year = slot.starts_at.year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return calendar.to_ical()


def _organizer(office):
    address = vCalAddress(f"mailto:{parseaddr(current_app.config['MAIL_FROM'])[1]}")
    address.params["CN"] = f"lokal willkommen {office.name}"
    return address


def _attendee(booking):
    """The resident, already accepted: the booking is made, there is nothing to answer."""
    address = vCalAddress(f"mailto:{booking.email}")
    address.params.update(
        CN=booking.name, ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED", RSVP="FALSE"
    )
    return address


def _alarm(office):
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Appointment at lokal willkommen %(office)s", office=office.name))
    alarm.add("trigger", -timedelta(minutes=current_app.config["ICS_ALARM_MINUTES"]))
    return alarm


def _event_description(booking):
    """No topic: it can be sensitive, and calendar files end up in cloud calendars."""
    return _("Change or cancel your appointment: %(link)s",
             link=public_url("public.manage", token=booking.token))
