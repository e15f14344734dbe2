"""The office desk: walk-ins and callers, cancelling on a resident's behalf, attendance, the waitlist by hand.

Pages follow POST/redirect/GET: every change ends in a redirect with a flash message. Flash
messages live in the session cookie, so they never name the resident.
"""
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField, TelField, TextAreaField

from ... import clock
from ...extensions import db
from ...i18n import local_when
from ...services import agenda as agendas
from ...services import booking as bookings
from ...services import desk, staff
from ...services import waitlist as waitlists
from ...services.errors import DomainError
from ..forms import Form, status_for, submit
from ..inputs import check_types, json_object
from ..outbox import commit_and_send
from .access import actor
from .agenda import booking_json, entry_json, format_day, language_name, offer_json, weekday_names
from .blueprints import api, pages


class WalkInForm(Form):
    slot_id = SelectField(_l("Time"), coerce=int, validate_choice=False)
    name = StringField(_l("Name"), render_kw={"maxlength": 100, "autocomplete": "off"})
    phone = TelField(_l("Mobile number (optional)"),
                     description=_l("With a number the person gets the confirmation by SMS, in their language."),
                     render_kw={"inputmode": "tel", "dir": "ltr", "autocomplete": "off"})
    locale = SelectField(_l("Language"))
    topic = TextAreaField(_l("Topic (optional)"), render_kw={"rows": 2, "maxlength": 500})
    source = RadioField(_l("How did the person come to us?"), default="walk_in",
                        choices=[SelectChoice("walk_in", _l("At the desk (walk-in)")),
                                 SelectChoice("phone", _l("On the phone (caller)"))])


class ReasonForm(Form):
    reason = StringField(_l("Reason"), description=_l("Kept with the record for the office; not sent to the resident."),
                         render_kw={"maxlength": 200, "autocomplete": "off"})


class OfferForm(Form):
    entry_id = SelectField(_l("Person"), coerce=int, validate_choice=False)
    slot_id = SelectField(_l("Free time"), coerce=int, validate_choice=False)


MARK_NAMES = {"attended": _l("attended"), "no_show": _l("did not come")}


def _slot_label(slot, office):
    return _l("%(when)s (%(free)d free)", when=local_when(slot.starts_at, office), free=slot.available)


def _agenda_of(booking):
    """Back to the agenda of the booking's day, in the view the form came from."""
    day = booking.slot.starts_at.astimezone(booking.office.tz).date()
    view = "week" if request.values.get("view") == "week" else "day"
    return url_for("staff.agenda", slug=booking.office.slug, date=day.isoformat(), view=view)


# --- Walk-ins and callers -------------------------------------------------------------------

@pages.route("/offices/<slug>/walk-in", methods=["GET", "POST"])
def walk_in(slug):
    office = staff.office_for(actor(), slug)
    now = clock.now()
    form = WalkInForm()
    free = desk.bookable_slots(office, now)
    form.slot_id.choices = [SelectChoice(slot.id, _slot_label(slot, office)) for slot in free]
    form.locale.choices = [SelectChoice(code, language_name(code)) for code in current_app.config["LANGUAGES"]]
    if request.method == "GET":
        form.slot_id.data = request.args.get("slot", type=int)
    booking, error = submit(form, lambda: desk.book_walk_in(
        office, form.slot_id.data, name=form.name.data, phone=form.phone.data, locale=form.locale.data,
        topic=form.topic.data, source=form.source.data, actor=actor(), now=now,
    ))
    if booking is not None:
        commit_and_send()
        when = local_when(booking.slot.starts_at, office)
        flash(_l("Booked for %(when)s. The confirmation goes out by SMS.", when=when) if booking.phone
              else _l("Booked for %(when)s. No SMS: no number was given.", when=when))
        return redirect(_agenda_of(booking), code=303)
    return render_template("staff/desk_walk_in.html", office=office, form=form, error=error,
                           free=free), status_for(form, error)


# --- Cancelling on a resident's behalf, and attendance --------------------------------------

@pages.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
def cancel_booking(booking_id):
    """A second step with a required reason: cancelling texts the resident."""
    booking = desk.booking_for(actor(), booking_id)
    form = ReasonForm()
    done, error = submit(form, lambda: desk.cancel_for_resident(
        booking, form.reason.data, actor=actor(), now=clock.now()))
    if done is not None:
        commit_and_send()
        flash(_l("The appointment is cancelled. The resident is told by SMS, and the seat is offered on.")
              if done else _l("The appointment was cancelled already."))
        return redirect(_agenda_of(booking), code=303)
    return render_template("staff/desk_cancel.html", office=booking.office, booking=booking, form=form,
                           error=error, may_cancel=bookings.can_change(booking, clock.now()),
                           language_name=language_name), status_for(form, error)


@pages.post("/bookings/<int:booking_id>/attendance")
def attendance(booking_id):
    booking = desk.booking_for(actor(), booking_id)
    try:  # the button pressed names the mark; CSRF is checked before any view
        desk.mark_attendance(booking, request.form.get("status"), actor=actor(), now=clock.now())
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message)
        return redirect(_agenda_of(booking), code=303)
    commit_and_send()
    flash(_l("Marked as %(mark)s.", mark=MARK_NAMES[str(booking.status)]))
    return redirect(_agenda_of(booking), code=303)


# --- The waitlist by hand -------------------------------------------------------------------

@pages.get("/offices/<slug>/waitlist")
def waitlist(slug, form=None, status=200):
    office = staff.office_for(actor(), slug)
    now = clock.now()
    waiting = agendas.waiting(office, now)
    form = form or OfferForm(formdata=None)
    form.entry_id.choices = [SelectChoice(item.entry.id, f"{item.position}. {item.entry.name}")
                             for item in waiting if item.offer is None]
    form.slot_id.choices = [SelectChoice(slot.id, _slot_label(slot, office))
                            for slot in desk.offerable_slots(office, now)]
    if form.entry_id.data is None:
        form.entry_id.data = request.args.get("entry", type=int)
    return render_template("staff/waitlist.html", office=office, waiting=waiting, form=form, now=now,
                           language_name=language_name, weekday_names=weekday_names(),
                           format_day=format_day), status


@pages.post("/offices/<slug>/waitlist/offer")
def waitlist_offer(slug):
    office = staff.office_for(actor(), slug)
    form = OfferForm()
    if not form.validate_on_submit():
        return waitlist(slug, form=form, status=422)
    try:
        entry = desk.entry_for(actor(), form.entry_id.data)
        offer = desk.offer_seat(entry, form.slot_id.data, actor=actor(), now=clock.now())
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message)
        return redirect(url_for("staff.waitlist", slug=office.slug), code=303)
    commit_and_send()
    flash(_l("%(when)s is offered and held. The person is told by SMS.",
             when=local_when(offer.slot.starts_at, office)))
    return redirect(url_for("staff.waitlist", slug=office.slug), code=303)


@pages.route("/waitlist/<int:entry_id>/remove", methods=["GET", "POST"])
def waitlist_remove(entry_id):
    """A second step with a required reason: the resident is told by SMS."""
    entry = desk.entry_for(actor(), entry_id)
    form = ReasonForm()
    done, error = submit(form, lambda: waitlists.remove(entry, form.reason.data, actor=actor(), now=clock.now()))
    if done is not None:
        commit_and_send()
        flash(_l("Taken off the waitlist. The person is told by SMS.") if done
              else _l("This person was taken off the waitlist already."))
        return redirect(url_for("staff.waitlist", slug=entry.office.slug), code=303)
    return render_template("staff/waitlist_remove.html", office=entry.office, entry=entry, form=form,
                           error=error, language_name=language_name, format_day=format_day,
                           weekday_names=weekday_names()), status_for(form, error)


# --- The staff API --------------------------------------------------------------------------

@api.post("/offices/<slug>/bookings")
def create_booking(slug):
    """Book for a walk-in or a caller; no rate limit (the residents' limiter is not on it)."""
    office = staff.office_for(actor(), slug)
    data = json_object()
    check_types(data, {"slot_id": (int, True), "name": (str, True), "phone": (str, False),
                       "locale": (str, True), "topic": (str, False), "source": (str, False)})
    booking = desk.book_walk_in(
        office, data["slot_id"], name=data["name"], phone=data.get("phone"), locale=data["locale"],
        topic=data.get("topic"), source=data.get("source") or "walk_in", actor=actor(), now=clock.now(),
    )
    commit_and_send()
    return jsonify(booking_json(booking)), 201


@api.post("/bookings/<int:booking_id>/cancel")
def cancel_booking_json(booking_id):
    booking = desk.booking_for(actor(), booking_id)
    data = json_object()
    check_types(data, {"reason": (str, True)})
    desk.cancel_for_resident(booking, data["reason"], actor=actor(), now=clock.now())
    commit_and_send()
    return jsonify(booking_json(booking))


@api.post("/bookings/<int:booking_id>/attendance")
def attendance_json(booking_id):
    booking = desk.booking_for(actor(), booking_id)
    data = json_object()
    check_types(data, {"status": (str, True)})
    desk.mark_attendance(booking, data["status"], actor=actor(), now=clock.now())
    commit_and_send()
    return jsonify(booking_json(booking))


@api.delete("/waitlist/<int:entry_id>")
def remove_entry_json(entry_id):
    """The reason comes in the body (``{"reason": ...}``) or as ``?reason=``."""
    entry = desk.entry_for(actor(), entry_id)
    data = request.get_json(silent=True, force=True) if request.content_length else None
    data = data if isinstance(data, dict) else {"reason": request.args.get("reason")}
    check_types(data, {"reason": (str, True)})
    waitlists.remove(entry, data["reason"], actor=actor(), now=clock.now())
    commit_and_send()
    return jsonify(entry_json(entry))


@api.post("/waitlist/<int:entry_id>/offer")
def offer_json_route(entry_id):
    entry = desk.entry_for(actor(), entry_id)
    data = json_object()
    check_types(data, {"slot_id": (int, True)})
    offer = desk.offer_seat(entry, data["slot_id"], actor=actor(), now=clock.now())
    commit_and_send()
    return jsonify(offer_json(offer)), 201
