"""SMS replies from residents: 1 or yes accepts an offer, 2 or no declines it (or, with no
offer open, cancels the next appointment), STOP and START switch SMS off and on.

With phone verification on, 1 or yes also confirms a held booking. When a number has both
a hold and an offer open, 1 answers the one whose SMS came last (``_held_first``).

Each Twilio MessageSid is handled once: a repeated webhook gets the first answer again.
"""
import string
import unicodedata

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Booking, BookingStatus, InboundMessage, Offer, OptOut, Slot, WaitlistEntry
from . import booking as bookings
from . import offer_answers, verification
from .errors import DomainError

# Twilio's own opt-out and opt-in keywords (without YES, which here accepts an offer). The
# words of the residents' languages come from the catalogues (``reply_words``), where
# translators see them next to the yes and no of their language.
# A few residents' words are here too, so that STOP works before a catalogue is complete.
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "stopp", "стоп", "توقف", "dur"}
START_WORDS = {"start", "unstop", "старт", "ابدأ", "başla"}


def handle(sid, phone, body, now):
    """Act on one inbound SMS; returns the text to answer with ("" for none)."""
    known = db.session.scalar(select(InboundMessage).where(InboundMessage.sid == sid))
    if known is not None:
        return known.reply
    record = InboundMessage(sid=sid, phone=phone, body=body[:1600], received_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:  # the same webhook, handled at this moment by another worker
        return ""
    locale = resident_locale(phone)
    with force_locale(locale):
        record.reply = _answer(phone, words(body), now)
    return record.reply


def _answer(phone, said, now):
    if said & (STOP_WORDS | reply_words("stop")):
        if db.session.get(OptOut, phone) is None:
            db.session.add(OptOut(phone=phone, created_at=now))
        return _("You will get no more SMS from lokal willkommen. Reply START to get them again.")
    if said & (START_WORDS | reply_words("start")):
        if (opt_out := db.session.get(OptOut, phone)) is not None:
            db.session.delete(opt_out)
        return _("You will get SMS from lokal willkommen again.")
    yes, no = bool(said & reply_words("yes")), bool(said & reply_words("no"))
    if yes == no:
        return help_text()
    try:
        with db.session.begin_nested():
            return _act(phone, yes, now)
    except DomainError as refused:
        return str(refused.message)


def _act(phone, yes, now):
    offer = offer_answers.pending_for_phone(phone)
    if yes and (held := _held_first(phone, offer, now)) is not None:
        verification.confirm_any(held, now)  # the confirmation SMS is the answer
        return ""
    if offer is not None:
        if yes:
            offer_answers.accept(offer, now)  # the confirmation SMS is the answer
            return ""
        offer_answers.decline(offer, now)
        if offer.entry is not None:
            return _("Thank you. The time goes to the next person; you keep your place on the waitlist.")
        return _("Thank you. You keep your appointment.")
    if yes:
        return _("Sorry, this offer is no longer open. The time has gone to someone else.")
    booking = next_booking(phone, now)
    if booking is None:
        return help_text()
    bookings.cancel(booking, now=now)  # the cancellation SMS is the answer
    return ""


def _held_first(phone, offer, now):
    """The open hold a 1 confirms: the number's newest, unless an offer was made after it."""
    held = verification.hold_for_phone(phone, now)
    if held is None or (offer is not None and offer.sent_at > verification.held_at(held)):
        return None
    return held


def help_text():
    # Translators: write STOP and START as the words of your language that stop and restart
    # the SMS (one of the words you gave for "stop" and "start").
    return _("Reply 1 to accept an offer, 2 to decline it or to cancel your appointment. "
             "STOP: no more SMS. START: SMS again.")


def words(body):
    """The words of a reply, lower case, digits of any script as 0-9, punctuation and
    invisible characters (zero-width spaces, direction marks) dropped."""
    text = "".join(
        str(unicodedata.digit(char)) if char.isdigit() else char
        for char in unicodedata.normalize("NFKC", body).casefold()
        if unicodedata.category(char) != "Cf"
    )
    text = "".join(" " if unicodedata.category(char).startswith("P") or char in string.punctuation
                   else char for char in text)
    return set(text.split())


def reply_words(which):
    """The words residents reply with, in every language the service speaks: "yes" or "no"
    to an offer ("1" and "2" too), "stop" or "start" for all SMS.

    Translators give each as one or more words separated by commas ("ja,jo" for "yes")."""
    found = {"yes": {"1"}, "no": {"2"}}.get(which, set())
    for code in current_app.config["LANGUAGES"]:
        with force_locale(code):
            listed = {
                # Translators: the words residents reply with to accept an offer; give several
                # separated by commas if people write it in different ways ("ja,jo").
                "yes": lambda: _("yes"),
                # Translators: the words residents reply with to decline an offer or to cancel;
                # several separated by commas.
                "no": lambda: _("no"),
                # Translators: the words residents reply with to get no more SMS, as they would
                # write them ("stopp,stop"); several separated by commas.
                "stop": lambda: _("stop"),
                # Translators: the words residents reply with to get SMS again after stopping
                # them; several separated by commas.
                "start": lambda: _("start"),
            }[which]()
        for word in listed.split(","):
            found |= words(word)
    return found


def next_booking(phone, now):
    return db.session.scalar(
        select(Booking).join(Booking.slot)
        .where(Booking.phone == phone, Booking.status == BookingStatus.BOOKED, Slot.starts_at > now)
        .order_by(Slot.starts_at).limit(1)
    )


def resident_locale(phone):
    """The language of the resident's latest booking, wait or offer; else the default."""
    candidates = [
        db.session.scalar(select(model.locale).where(model.phone == phone).order_by(model.id.desc()).limit(1))
        for model in (Offer, Booking, WaitlistEntry)
    ]
    for locale in candidates:
        if locale in current_app.config["LANGUAGES"]:
            return locale
    return current_app.config["LANGUAGES"][0]
