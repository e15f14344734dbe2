"""The waitlist and offer pages. Links only show; joining, leaving and answering take a POST."""
from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import get_locale

from .. import clock
from ..extensions import db
from ..i18n import in_their_language
from ..services import offer_answers, slots, verification, waitlist
from ..services.errors import DomainError
from . import limits
from .forms import ConfirmForm, WaitlistForm, status_for, submit
from .outbox import commit_and_send
from .public import confirm_page, held_answer

bp = Blueprint("waitlist", __name__)

FREE_TIMES_SHOWN = 6


@bp.route("/o/<slug>/waitlist", methods=["GET", "POST"])
def join(slug):
    office = slots.office_by_slug(slug)
    form = WaitlistForm()
    now = clock.now()

    def page(error):
        # Times free right now come first: booking one beats waiting for one.
        free = slots.free_slots(office, now, end=now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"]))
        return render_template("waitlist_join.html", office=office, form=form, error=error,
                               free=free[:FREE_TIMES_SHOWN])

    if form.is_submitted():
        try:  # only a wait that was made counts (below); a refusal keeps what was typed
            limits.check(phone=form.phone.data)
        except limits.Refused as refused:
            return limits.refused_page(page(refused.message), refused)
    entry, error = submit(form, lambda: waitlist.join(
        office, name=form.name.data, phone=form.phone.data, locale=str(get_locale()),
        weekdays=form.weekdays.data, earliest=form.earliest.data, latest=form.latest.data,
        before=form.before.data, topic=form.topic.data, now=now,
    ))
    if isinstance(entry, verification.Pending):
        response = held_answer(slug, wait=True)
        limits.count(phone=form.phone.data)  # the same for every number: held or not
        return response
    if entry is not None:
        commit_and_send()
        limits.count(phone=entry.phone)
        return redirect(url_for(".entry", token=entry.token), code=303)
    return page(error), status_for(form, error)


@bp.route("/w/<token>/confirm", methods=["GET", "POST"])
def verify(token):
    """The link in the verification SMS of a wait. Only a POST confirms: link previews and
    mail scanners open links and must never confirm."""
    entry = in_their_language(waitlist.by_token(token))
    return confirm_page(entry, verification.confirm_wait, url_for(".entry", token=token),
                        "verify_wait.html", entry=entry)


@bp.get("/w/<token>")
def entry(token):
    """Only shows: link previews and mail scanners open links and must never act."""
    entry = in_their_language(waitlist.by_token(token))
    waiting = entry.status == "waiting"
    return render_template(
        "waitlist_entry.html", entry=entry, form=ConfirmForm(),
        position=waitlist.position(entry) if waiting else None,
        offer=waitlist.pending_offer(entry) if waiting else None,
    )


@bp.post("/w/<token>/leave")
def leave(token):
    entry = in_their_language(waitlist.by_token(token))
    waitlist.leave(entry, clock.now())
    commit_and_send()
    return redirect(url_for(".entry", token=token), code=303)


@bp.get("/a/<token>")
def offer(token):
    offer = in_their_language(offer_answers.by_token(token))
    return render_template("offer.html", offer=offer, form=ConfirmForm(),
                           open=offer_answers.is_open(offer, clock.now()))


@bp.post("/a/<token>/<any(accept, decline):answer>")
def answer(token, answer):
    """Accepting leads to the appointment; declining back to the offer, which says so."""
    offer = in_their_language(offer_answers.by_token(token))
    try:
        booking = (offer_answers.accept if answer == "accept" else offer_answers.decline)(offer, clock.now())
    except DomainError as refused:
        db.session.rollback()
        return render_template("offer.html", offer=offer, form=None, open=False,
                               error=refused.message), refused.status
    commit_and_send()
    if answer == "accept":  # a page that says plainly: booked
        return redirect(url_for("public.confirmation", token=booking.token), code=303)
    return redirect(url_for(".offer", token=token), code=303)
