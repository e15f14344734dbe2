"""The day's and the week's agenda of an office, and its print view."""
from datetime import date, timedelta

from babel import Locale
from babel.dates import format_date, get_day_names
from flask import jsonify, render_template, request
from flask_babel import get_locale

from ... import clock
from ...services import agenda as agendas
from ...services import staff
from ...services.errors import InvalidInput
from ..inputs import query_date
from .access import actor
from .blueprints import api, pages


def language_name(code):
    """A resident's language, named in the page's language ("Arabisch", "Arabic")."""
    try:
        return Locale.parse(code).get_display_name(str(get_locale())) or code
    except (ValueError, TypeError):
        return code


def format_day(day, format="full"):
    """A local date (not a moment) in the page's language: "Donnerstag, 26. November 2026"."""
    return format_date(day, format, locale=str(get_locale()))


def weekday_names():
    """0 = Monday, in the page's language."""
    return get_day_names("abbreviated", locale=str(get_locale()))


def _shown_day(today):
    """``?date=`` on the pages; anything else (or a week reaching out of ``agenda.YEARS``)
    shows today."""
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return today
    return day if agendas.YEARS[0] < day.year < agendas.YEARS[1] else today


def _page(slug, template):
    office = staff.office_for(actor(), slug)
    now = clock.now()
    today = now.astimezone(office.tz).date()
    day = _shown_day(today)
    view = request.args.get("view") if request.args.get("view") in agendas.VIEWS else "day"
    first, last = agendas.period(day, view)
    step = timedelta(days=7 if view == "week" else 1)
    return render_template(
        template, office=office, days=agendas.days(office, first, last, now), view=view, day=day,
        first=first, last=last, today=today, previous=day - step, next=day + step,
        waiting=agendas.waiting(office, now), now=now,
        language_name=language_name, weekday_names=weekday_names(), format_day=format_day,
    )


@pages.get("/offices/<slug>/agenda")
def agenda(slug):
    return _page(slug, "staff/agenda.html")


@pages.get("/offices/<slug>/agenda/print")
def agenda_print(slug):
    """One A4 page per day with consultation hours, for the desk and the wall."""
    return _page(slug, "staff/agenda_print.html")


@api.get("/offices/<slug>/agenda")
def agenda_json(slug):
    office = staff.office_for(actor(), slug)
    now = clock.now()
    today = now.astimezone(office.tz).date()
    fields = {}
    first = query_date("from", today, fields)
    last = query_date("to", None, fields)
    if fields:
        raise InvalidInput(fields=fields)
    found = agendas.bookings_between(office, first, last or first)
    return jsonify(
        office=office.slug, **{"from": first.isoformat(), "to": (last or first).isoformat()},
        bookings=[booking_json(booking) for booking in found],
        waitlist=[waiting_json(item) for item in agendas.waiting(office, now)],
    )


def _iso(moment, office):
    return moment.astimezone(office.tz).isoformat() if moment is not None else None


def booking_json(booking):
    """A booking as the staff API shows it: with name and number, unlike the calendar feed."""
    office, slot = booking.office, booking.slot
    return {
        "id": booking.id, "token": booking.token, "slot_id": slot.id, "office": office.slug,
        "start": _iso(slot.starts_at, office), "end": _iso(slot.ends_at, office),
        "name": booking.name, "phone": booking.phone, "locale": booking.locale, "topic": booking.topic,
        "status": str(booking.status), "source": str(booking.source),
        "requested_at": _iso(booking.requested_at, office),
        "cancelled_by": str(booking.cancelled_by) if booking.cancelled_by else None,
        "cancel_reason": booking.cancel_reason,
        "attendance_marked_at": _iso(booking.attendance_marked_at, office),
    }


def _minute_text(minute):
    return None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def waiting_json(item):
    """A waitlist entry with its place in the queue (``agenda.Waiting``)."""
    return {
        **entry_json(item.entry), "position": item.position, "days_waited": item.days_waited,
        "offer": offer_json(item.offer),
    }


def entry_json(entry):
    office = entry.office
    return {
        "id": entry.id, "office": office.slug, "status": str(entry.status), "name": entry.name,
        "phone": entry.phone, "locale": entry.locale, "topic": entry.topic,
        "requested_at": _iso(entry.requested_at, office),
        "weekdays": [day for day in range(7) if entry.accepts_weekday(day)],
        "earliest": _minute_text(entry.earliest_minute), "latest": _minute_text(entry.latest_minute),
        "before": entry.last_day.isoformat() if entry.last_day else None,
        "end_reason": entry.end_reason,
    }


def offer_json(offer):
    if offer is None:
        return None
    office = offer.office
    return {
        "id": offer.id, "slot_id": offer.slot_id, "waitlist_entry_id": offer.waitlist_entry_id,
        "kind": str(offer.kind), "status": str(offer.status),
        "start": _iso(offer.slot.starts_at, office), "end": _iso(offer.slot.ends_at, office),
        "hold_minutes": offer.hold_minutes, "sent_at": _iso(offer.sent_at, office),
        "expires_at": _iso(offer.expires_at, office),
    }
