"""The resident pages: pick an office and a time, book, manage. Work without JavaScript."""
from datetime import timedelta
from itertools import groupby

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from .. import clock
from ..i18n import in_their_language
from ..extensions import limiter
from ..services import booking as bookings, calendar, offers, slots
from ..services.errors import DomainError
from .forms import BookingForm, ConfirmForm, status_for, submit
from .outbox import commit_and_send

bp = Blueprint("public", __name__)


def booking_rate_limit():
    return current_app.config["RATELIMIT_BOOKING"]


@bp.get("/")
def index():
    return render_template("index.html", offices=slots.active_offices())


@bp.get("/o/<slug>")
def office(slug):
    office = slots.office_by_slug(slug)
    now = clock.now()
    free = slots.free_slots(office, now, end=now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"]))
    days = [
        (day, list(day_slots))
        for day, day_slots in groupby(free, key=lambda slot: slot.starts_at.astimezone(office.tz).date())
    ]
    return render_template("office.html", office=office, days=days)


@bp.route("/o/<slug>/book/<int:slot_id>", methods=["GET", "POST"])
@limiter.limit(booking_rate_limit, methods=["POST"])
def book(slug, slot_id):
    office = slots.office_by_slug(slug)
    slot = slots.slot_of(office, slot_id)
    form = BookingForm()
    try:
        bookings.check_bookable(slot, clock.now())
    except DomainError as refused:
        return render_template("book.html", office=office, slot=slot, form=None,
                               error=refused.message), refused.status
    booking, error = submit(form, lambda: bookings.book(
        slot.id, name=form.name.data, phone=form.phone.data, locale=str(get_locale()),
        email=form.email.data, topic=form.topic.data, notify_earlier=form.notify_earlier.data,
        now=clock.now(),
    ))
    if booking is not None:
        commit_and_send()
        return redirect(url_for(".confirmation", token=booking.token), code=303)
    return render_template("book.html", office=office, slot=slot, form=form, error=error), status_for(form, error)


def resident_booking(token):
    """The booking behind a manage link; its pages speak the language it was booked in."""
    return in_their_language(bookings.by_token(token))


@bp.get("/b/<token>/booked")
def confirmation(token):
    return render_template("confirmation.html", booking=resident_booking(token))


@bp.get("/b/<token>")
def manage(token):
    """Only shows: link previews and mail scanners open links and must never cancel."""
    booking = resident_booking(token)
    return render_template("manage.html", booking=booking, form=ConfirmForm(), now=clock.now(),
                           offer=offers.sent_move_up(booking))


@bp.post("/b/<token>/cancel")
def cancel(token):
    """CSRFProtect has checked the form's token before this runs."""
    booking = resident_booking(token)
    if bookings.cancel(booking, now=clock.now()):
        commit_and_send()
    return redirect(url_for(".manage", token=token), code=303)


@bp.post("/b/<token>/earlier")
def earlier(token):
    booking = resident_booking(token)
    bookings.want_earlier(booking, request.form.get("wanted") == "1", clock.now())
    commit_and_send()
    return redirect(url_for(".manage", token=token), code=303)


@bp.get("/b/<token>/ics")
def ics(token):
    return calendar_response(bookings.by_token(token))


def calendar_response(booking):
    body = calendar.booking_calendar(booking, now=clock.now())
    return body, 200, {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'attachment; filename="lokal-willkommen-{booking.slot.starts_at:%Y%m%d}.ics"',
    }
