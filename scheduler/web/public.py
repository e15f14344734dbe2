"""The resident pages: pick an office and a time, book, manage. Work without JavaScript."""
from datetime import timedelta
from itertools import groupby

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from .. import clock, i18n
from ..extensions import db
from ..i18n import in_their_language
from ..services import booking as bookings
from ..services import calendar, languages, offer_answers, slots, verification
from ..services.errors import DomainError
from . import limits
from .forms import BookingForm, ConfirmForm, status_for, submit
from .outbox import commit_and_send

bp = Blueprint("public", __name__)


@bp.app_template_global()
def language_name(code):
    return i18n.language_name(code)


@bp.app_template_global()
def language_link(code, path=None):
    """This page in language ``code``: ``path`` when given, else the page's own route built
    again with url_for, so the link stays on this site whatever path was asked for (never
    ``request.path``: ``/%5Cevil.example`` would become ``/\\evil.example``, another site to a
    browser). Pages without a route of their own (404) and answers to a POST lead home."""
    rule = request.url_rule
    if not path and rule is not None and "GET" in (rule.methods or ()):
        return url_for(request.endpoint, **(request.view_args or {}), lang=code)
    return f"{path or url_for('public.index')}?lang={code}"


@bp.app_template_global()
def spoken_languages(office):
    """The languages spoken at ``office``, named in the page's language, as a list reads."""
    codes = languages.office_languages(office, clock.now().astimezone(office.tz).date())
    return i18n.name_list(codes)


@bp.get("/")
def index():
    return render_template("index.html", offices=slots.active_offices())


@bp.get("/favicon.ico")
def favicon():
    return current_app.send_static_file("favicon.ico")


def by_day(free, office):
    return [
        (day, list(day_slots))
        for day, day_slots in groupby(free, key=lambda slot: slot.starts_at.astimezone(office.tz).date())
    ]


@bp.get("/o/<slug>")
def office(slug):
    """The free times; ``?language=xx`` keeps those with someone who speaks it."""
    office = slots.office_by_slug(slug)
    now = clock.now()
    spoken = languages.office_languages(office, now.astimezone(office.tz).date())
    language = request.args.get("language")
    language = language if language in spoken and language != languages.GERMAN else None
    free = slots.free_slots(office, now, end=now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"]))
    free = languages.spoken_in(free, office, language)
    own = str(get_locale())
    return render_template("office.html", office=office, days=by_day(free, office),
                           language=language, spoken=spoken,
                           own_language=own if own != languages.GERMAN else None)


@bp.route("/o/<slug>/book/<int:slot_id>", methods=["GET", "POST"])
def book(slug, slot_id):
    office = slots.office_by_slug(slug)
    slot = slots.slot_of(office, slot_id)
    form = BookingForm()
    try:
        bookings.check_bookable(slot, clock.now())
    except DomainError as refused:
        return render_template("book.html", office=office, slot=slot, form=None,
                               error=refused.message), refused.status
    if form.is_submitted():
        try:  # only a booking made counts (below); a refusal keeps what was typed
            limits.check(phone=form.phone.data)
        except limits.Refused as refused:
            return limits.refused_page(render_template("book.html", office=office, slot=slot, form=form,
                                                       error=refused.message), refused)
    booking, error = submit(form, lambda: bookings.book(
        slot.id, name=form.name.data, phone=form.phone.data, locale=str(get_locale()),
        email=form.email.data, topic=form.topic.data, notify_earlier=form.notify_earlier.data,
        now=clock.now(),
    ))
    if isinstance(booking, verification.Pending):
        response = held_answer(slug)
        limits.count(phone=form.phone.data)  # the same for every number: held or not
        return response
    if booking is not None:
        commit_and_send()
        limits.count(phone=booking.phone)
        return redirect(url_for(".confirmation", token=booking.token), code=303)
    return render_template("book.html", office=office, slot=slot, form=form, error=error), status_for(form, error)


def held_answer(slug, wait=False):
    """Phone verification: every number is told the same; the SMS says what happened."""
    commit_and_send()
    return redirect(url_for("public.held", slug=slug, wait=1 if wait else None), code=303)


@bp.get("/o/<slug>/held")
def held(slug):
    return render_template("held.html", office=slots.office_by_slug(slug),
                           minutes=verification.hold_minutes(), wait=request.args.get("wait") == "1")


@bp.route("/v/<token>", methods=["GET", "POST"])
def verify(token):
    """The link in the verification SMS. Only a POST confirms: link previews and mail
    scanners open links and must never confirm."""
    booking = resident_booking(token)
    return confirm_page(booking, verification.confirm, url_for(".confirmation", token=token),
                        "verify.html", booking=booking)


def confirm_page(held, confirm, done, template, **context):
    """The page of a verification link (a held booking or wait): a POST with the form
    confirms and goes on to ``done``; anything else shows whether it is still open."""
    form = ConfirmForm()
    if form.validate_on_submit():
        if confirm(held, clock.now()):
            commit_and_send()
            return redirect(done, code=303)
        db.session.commit()  # a late confirmation expired the hold: keep that
    return render_template(template, form=form, open=verification.is_open(held, clock.now()), **context)


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
    return render_template("manage.html", booking=booking, form=ConfirmForm(),
                           changeable=bookings.can_change(booking, clock.now()),
                           offer=offer_answers.sent_move_up(booking))


@bp.post("/b/<token>/cancel")
def cancel(token):
    """Two steps, without JavaScript: the manage page's button asks "really?" on a page of
    its own; only that page's button (``confirmed=1``) cancels. CSRFProtect has checked the
    form's token before this runs."""
    booking = resident_booking(token)
    limits.check_number(booking.phone)
    if request.form.get("confirmed") != "1" and bookings.can_change(booking, clock.now()):
        # The language links lead back to the manage page: the "really?" step is a POST.
        return render_template("cancel.html", booking=booking, form=ConfirmForm(),
                               language_path=url_for(".manage", token=token))
    if bookings.cancel(booking, now=clock.now()):
        commit_and_send()
        limits.count(phone=booking.phone, address=False)
    return redirect(url_for(".manage", token=token), code=303)


@bp.route("/b/<token>/change", methods=["GET", "POST"])
def change(token):
    """Other free times at the office; choosing one moves the booking (a POST)."""
    booking = resident_booking(token)
    form, error = ConfirmForm(), None
    if form.validate_on_submit():
        limits.check_number(booking.phone)
        try:
            bookings.change(booking, request.form.get("slot_id", type=int) or 0, clock.now())
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
        else:
            commit_and_send()
            limits.count(phone=booking.phone, address=False)
            return redirect(url_for(".manage", token=token, changed=1), code=303)
    now = clock.now()
    return render_template(
        "change.html", booking=booking, form=form, error=error,
        changeable=bookings.can_change(booking, now),
        days=by_day(bookings.other_times(booking, now), booking.office),
    ), 409 if error else 200


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
