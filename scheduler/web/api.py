"""JSON API, version 1. Every answer is JSON, errors included (see ``web.errors``)."""
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from .. import clock
from ..extensions import csrf
from ..models import WaitlistStatus
from ..services import booking as bookings
from ..services import languages, offer_answers, slots, verification, waitlist
from ..services.errors import InvalidInput
from . import limits
from .inputs import check_types, json_object, parse_date, query_date
from .outbox import commit_and_send
from .public import calendar_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies authenticate the API: a token in the path is the capability

MAX_RANGE_DAYS = 92


def office_json(office):
    return {
        "slug": office.slug, "name": office.name, "address": office.address,
        "languages": languages.office_languages(office, clock.now().astimezone(office.tz).date()),
        "timezone": office.timezone, "note": office.note,
    }


def slot_json(slot, office):
    return {
        "id": slot.id,
        "start": slot.starts_at.astimezone(office.tz).isoformat(),
        "end": slot.ends_at.astimezone(office.tz).isoformat(),
        "seats": slot.seats,
        "available": slot.available,
        "languages": languages.slot_languages(slot, office),
    }


def booking_json(booking):
    office = booking.office
    return {
        "token": booking.token,
        "status": str(booking.status),
        "start": booking.slot.starts_at.astimezone(office.tz).isoformat(),
        "end": booking.slot.ends_at.astimezone(office.tz).isoformat(),
        "slot_id": booking.slot_id,
        "office": office_json(office),
        "name": booking.name,
        "phone": booking.phone,
        "email": booking.email,
        "topic": booking.topic,
        "locale": booking.locale,
        "notify_earlier": booking.notify_earlier,
        "offer": offer_json(offer_answers.sent_move_up(booking)),
    }


def offer_json(offer):
    """A pending offer as residents see it; None when there is none, or its SMS is not out."""
    if offer is None:
        return None
    tz = offer.office.tz
    return {
        "token": offer.token,
        "kind": str(offer.kind),
        "status": str(offer.status),
        "slot_id": offer.slot_id,
        "start": offer.slot.starts_at.astimezone(tz).isoformat(),
        "end": offer.slot.ends_at.astimezone(tz).isoformat(),
        "expires_at": offer.expires_at.astimezone(tz).isoformat() if offer.expires_at else None,
    }


def waitlist_json(entry):
    waiting = entry.status == WaitlistStatus.WAITING
    offer = waitlist.pending_offer(entry) if waiting else None
    return {
        "token": entry.token,
        "status": str(entry.status),
        "position": waitlist.position(entry) if waiting else None,
        "office": office_json(entry.office),
        "name": entry.name,
        "phone": entry.phone,
        "locale": entry.locale,
        "weekdays": [day for day in range(7) if entry.accepts_weekday(day)],
        "earliest": _minute_text(entry.earliest_minute),
        "latest": _minute_text(entry.latest_minute),
        "before": entry.last_day.isoformat() if entry.last_day else None,
        "offer": offer_json(offer if offer is not None and offer.sent_at else None),
        "booking": entry.booking.token if entry.booking else None,
    }


def _minute_text(minute):
    return None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


@bp.get("/offices")
def offices():
    return jsonify(offices=[office_json(office) for office in slots.active_offices()])


@bp.get("/offices/<slug>/slots")
def office_slots(slug):
    office = slots.office_by_slug(slug)
    today = clock.now().astimezone(office.tz).date()
    fields = {}
    start_day = query_date("from", today, fields)
    end_day = query_date("to", None, fields)
    language = request.args.get("language") or None
    if language is not None and language not in current_app.config["LANGUAGES"]:
        fields["language"] = _l("This language is not offered.")
    if not fields:
        end_day = end_day or start_day + timedelta(days=14)
        if end_day < start_day:
            fields["to"] = _l("Must not be before 'from'.")
        elif (end_day - start_day).days > MAX_RANGE_DAYS:
            fields["to"] = _nl("At most %(num)d day at once.", "At most %(num)d days at once.",
                               MAX_RANGE_DAYS)
    if fields:
        raise InvalidInput(fields=fields)
    start = datetime.combine(start_day, time(), tzinfo=office.tz)
    end = datetime.combine(end_day + timedelta(days=1), time(), tzinfo=office.tz)
    found = languages.spoken_in(slots.slots_between(office, start, end), office, language)
    return jsonify(
        office=office_json(office), **{"from": start_day.isoformat(), "to": end_day.isoformat()},
        slots=[slot_json(slot, office) for slot in found],
    )


@bp.post("/bookings")
def create_booking():
    data = json_object()
    check_types(data, {
        "slot_id": (int, True), "name": (str, True), "phone": (str, True),
        "locale": (str, False), "email": (str, False), "topic": (str, False),
        "notify_earlier": (bool, False),
    })
    limits.check(phone=data["phone"])  # only a booking made counts (below)
    booking = bookings.book(
        data["slot_id"], name=data["name"], phone=data["phone"],
        locale=data.get("locale") or str(get_locale()), email=data.get("email"),
        topic=data.get("topic"), notify_earlier=data.get("notify_earlier", False),
        now=clock.now(),
    )
    commit_and_send()
    if isinstance(booking, verification.Pending):
        limits.count(phone=data["phone"])  # the same for every number: held or not
        return jsonify(held_json(booking)), 202
    limits.count(phone=booking.phone)
    return jsonify(booking_json(booking)), 201


def held_json(pending):
    """Phone verification: the same body for every number (docs/verification.md)."""
    return {"status": "verification_sent", "confirm_within_minutes": pending.minutes}


@bp.get("/bookings/<token>")
def show_booking(token):
    return jsonify(booking_json(bookings.by_token(token)))


@bp.post("/bookings/<token>/cancel")
def cancel_booking(token):
    booking = bookings.by_token(token)
    limits.check_number(booking.phone)
    if bookings.cancel(booking, now=clock.now()):
        commit_and_send()
        limits.count(phone=booking.phone, address=False)
    return jsonify(booking_json(booking))


@bp.post("/bookings/<token>/change")
def change_booking(token):
    """Move the booking to another free time of its office: ``{"slot_id": ...}``."""
    data = json_object()
    check_types(data, {"slot_id": (int, True)})
    booking = bookings.by_token(token)
    limits.check_number(booking.phone)
    booking = bookings.change(booking, data["slot_id"], clock.now())
    commit_and_send()
    limits.count(phone=booking.phone, address=False)
    return jsonify(booking_json(booking))


@bp.post("/bookings/<token>/earlier")
def want_earlier(token):
    data = json_object()
    check_types(data, {"notify_earlier": (bool, True)})
    booking = bookings.by_token(token)
    bookings.want_earlier(booking, data["notify_earlier"], clock.now())
    commit_and_send()
    return jsonify(booking_json(booking))


@bp.post("/waitlist")
def join_waitlist():
    data = json_object()
    check_types(data, {
        "office": (str, True), "name": (str, True), "phone": (str, True), "locale": (str, False),
        "weekdays": (list, False), "earliest": (str, False), "latest": (str, False),
        "before": (str, False), "topic": (str, False),
    })
    limits.check(phone=data["phone"])  # only a wait that was made counts (below)
    if data.get("before") and parse_date(data["before"]) is None:
        raise InvalidInput(fields={"before": _l("Must be a date like 2026-03-26.")})
    entry = waitlist.join(
        slots.office_by_slug(data["office"]), name=data["name"], phone=data["phone"],
        locale=data.get("locale") or str(get_locale()), weekdays=data.get("weekdays"),
        earliest=data.get("earliest"), latest=data.get("latest"), before=data.get("before"),
        topic=data.get("topic"), now=clock.now(),
    )
    commit_and_send()
    if isinstance(entry, verification.Pending):
        limits.count(phone=data["phone"])  # the same for every number: held or not
        return jsonify(held_json(entry)), 202
    limits.count(phone=entry.phone)
    return jsonify(waitlist_json(entry)), 201


@bp.get("/waitlist/<token>")
def show_waitlist_entry(token):
    return jsonify(waitlist_json(waitlist.by_token(token)))


@bp.post("/waitlist/<token>/leave")
def leave_waitlist(token):
    entry = waitlist.by_token(token)
    waitlist.leave(entry, clock.now())
    commit_and_send()
    return jsonify(waitlist_json(entry))


@bp.post("/offers/<token>/accept")
def accept_offer(token):
    offer = offer_answers.by_token(token)
    booking = offer_answers.accept(offer, clock.now())
    commit_and_send()
    return jsonify(offer=offer_json(offer), booking=booking_json(booking))


@bp.post("/offers/<token>/decline")
def decline_offer(token):
    offer = offer_answers.by_token(token)
    offer_answers.decline(offer, clock.now())
    commit_and_send()
    return jsonify(offer=offer_json(offer))


@bp.get("/bookings/<token>/ics")
def booking_ics(token):
    return calendar_response(bookings.by_token(token))
