"""What residents are told, in their language, written to the outbox with the change itself
(``messages``).

SMS texts are short on purpose: Arabic, Persian, Cyrillic, Turkish and Romanian SMS are
UCS-2, 67 characters a segment; ``tests/test_sms_texts.py`` keeps every text within two
segments in German and English and three in the other languages (docs/languages.md).
"""

from babel.units import format_unit
from flask_babel import force_locale
from flask_babel import gettext as _

from ..i18n import formatting_locale, sms_when
from ..models import OfferKind
from ..segments import segments
from ..urls import public_url
from . import policy
from .messages import plain_spaces, queue_calendar_email, queue_sms


def booking_confirmed(booking, now, *, write=True):
    """Also sent when an offer is accepted: the booking is new or has moved. Returns the
    messages; with ``write=False`` only makes them, for a caller that writes them with the
    booking itself (``seats.seat_booking``)."""
    body = _appointment_text(booking, "confirmation")
    messages = [queue_sms(booking.phone, booking.locale, "confirmation", body, now=now,
                          booking=booking, write=write),
                queue_calendar_email(booking, now, body, write=write)]
    return [message for message in messages if message is not None]


def booking_changed(booking, now):
    """The resident chose another time: the same manage link, the calendar event updated."""
    body = _appointment_text(booking, "change")
    queue_sms(booking.phone, booking.locale, "change", body, now=now, booking=booking)
    queue_calendar_email(booking, now, body)


def _appointment_text(booking, kind):
    office = booking.office
    with force_locale(booking.locale):
        values = dict(
            office=office.name, when=sms_when(booking.slot.starts_at, office),
            link=public_url("public.manage", token=booking.token),
        )
        if kind == "change":
            # Translators: %(address)s is the office's address and its line break, or nothing.
            return fitting(lambda address: _(
                "lokal willkommen %(office)s\nYour new time: %(when)s\n%(address)s"
                "Change or cancel:\n%(link)s", address=address, **values,
            ), office.address)
        # Translators: %(address)s is the office's address and its line break, or nothing.
        return fitting(lambda address: _(
            "lokal willkommen %(office)s\nYour appointment: %(when)s\n%(address)s"
            "Change or cancel:\n%(link)s", address=address, **values,
        ), office.address)


def booking_cancelled(booking, now):
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s\nYour appointment on %(when)s is cancelled.\n"
            "Book a new one:\n%(link)s",
            office=booking.office.name,
            when=sms_when(booking.slot.starts_at, booking.office),
            link=public_url("public.office", slug=booking.office.slug),
        )
    queue_sms(booking.phone, booking.locale, "cancellation", body, now=now, booking=booking)
    queue_calendar_email(booking, now, body)


def booking_reminder(booking, lead_hours, now, opted_out=None):
    """Once per booking and lead time, whichever process gets there first (``dedupe_key``)."""
    office = booking.office
    with force_locale(booking.locale):
        values = dict(
            office=office.name, when=sms_when(booking.slot.starts_at, office),
            link=public_url("public.manage", token=booking.token),
        )
        # Translators: %(address)s is the office's address and its line break, or nothing.
        body = fitting(lambda address: _(
            "lokal willkommen %(office)s\nReminder: your appointment is on %(when)s.\n"
            "%(address)sCannot come? Reply 2 or cancel:\n%(link)s", address=address, **values,
        ), office.address)
    return queue_sms(
        booking.phone, booking.locale, "reminder", body, now=now, booking=booking,
        due_at=policy.sending_time(now, office), valid_until=booking.slot.starts_at,
        dedupe_key=f"reminder:{booking.id}:{lead_hours}", opted_out=opted_out,
    )


def waitlist_joined(entry, position, now):
    with force_locale(entry.locale):
        body = _(
            "lokal willkommen %(office)s\nYou are number %(position)d on the waitlist. "
            "We will text you when a time is free.\nDetails:\n%(link)s",
            office=entry.office.name, position=position,
            link=public_url("waitlist.entry", token=entry.token),
        )
    queue_sms(entry.phone, entry.locale, "waitlist", body, now=now, office=entry.office)


def offer_made(offer, hold, due_at):
    """The offer goes out at ``due_at`` (after quiet hours); its hold starts when it does,
    so the text says how long, not until when. The message is written with the offer, at
    its ``created_at``."""
    office = offer.office
    with force_locale(offer.locale):
        values = dict(
            office=office.name, when=sms_when(offer.slot.starts_at, office),
            hold=hold_text(hold), link=public_url("waitlist.offer", token=offer.token),
        )
        if offer.kind == OfferKind.MOVE_UP:
            body = _(
                "lokal willkommen %(office)s\nAn earlier time is free: %(when)s\n"
                "Held for you for %(hold)s.\n"
                "Reply 1 to move your appointment, 2 to keep it, or answer here:\n%(link)s",
                **values,
            )
        else:
            body = _(
                "lokal willkommen %(office)s\nA time is free for you: %(when)s\n"
                "Held for you for %(hold)s.\nReply 1 to take it, 2 to decline, or answer here:\n"
                "%(link)s",
                **values,
            )
    # valid_until is set when the message is sent and the hold begins (offers.before_offer_sent).
    # next_waiting and next_move_up pass over numbers that opted out: no need to look again.
    return queue_sms(offer.phone, offer.locale, "offer", body, now=offer.created_at, offer=offer,
                     due_at=due_at, opted_out=False, valid_until=offer.slot.starts_at)


def fitting(render, address):
    """The text with the office's address on a line of its own, as long as it fits in two
    SMS; else with the street alone ("Nadlerweg 1"); else without it (the manage page has
    it). A non-Latin text that fits two SMS in no way keeps the whole address in three.

    Values in another script than the text's (office, address, link) stand on lines of
    their own: each line is a paragraph of its own for the bidi algorithm, so they read in
    their own direction in Arabic and Persian without invisible isolate characters."""
    address = " ".join((address or "").split())
    street = address.split(",")[0].strip()
    lines = list(dict.fromkeys((address, street, "")))
    texts = {}  # rendered when first needed: mostly the first fits

    def text(line):
        if line not in texts:
            texts[line] = render(f"{line}\n" if line else "")
        return texts[line]

    for limit in (2, 3):
        for line in lines:
            if segments(plain_spaces(text(line))) <= limit:
                return text(line)
    return text("")


def hold_text(hold):
    """"3 hours", "90 minutes": whole hours in hours, anything else in minutes."""
    minutes = int(hold.total_seconds() // 60)
    locale = formatting_locale()
    if minutes % 60 == 0:
        return _duration(minutes // 60, "duration-hour", locale)
    return _duration(minutes, "duration-minute", locale)


def _duration(value, unit, locale):
    text = format_unit(value, unit, length="long", locale=locale)
    if unit in text:
        # Babel has no long form in Persian and answers "8 duration-hour"; its short form
        # is the same words ("8 ساعت").
        text = format_unit(value, unit, length="short", locale=locale)
    return text


# --- The office desk (staff workspace) ------------------------------------------------------

def waitlist_removed(entry, now):
    """Staff took the resident off the waitlist. The reason stays with the office: it is in
    the staff's words and language, and may be long."""
    with force_locale(entry.locale):
        body = _(
            "lokal willkommen %(office)s\nYou are no longer on the waitlist.\nFree times:\n%(link)s",
            office=entry.office.name, link=public_url("public.office", slug=entry.office.slug),
        )
    return queue_sms(entry.phone, entry.locale, "waitlist_removed", body, now=now, office=entry.office)


# --- Weekly hours and closures (services.schedule) ---

def booking_closed(booking, now):
    """The office took the appointment's time away (hours changed, a closure, fewer seats).
    Sent outside quiet hours, before the offer of a new time that follows it."""
    if not booking.phone and not booking.email:
        return
    office = booking.office
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s\nWe are closed at the time of your appointment (%(when)s). You are "
            "back on the waitlist; we will text you a new time.",
            office=office.name, when=sms_when(booking.slot.starts_at, office),
        )
    if booking.phone:
        queue_sms(booking.phone, booking.locale, "cancellation", body, now=now, booking=booking,
                  due_at=policy.sending_time(now, office))
    queue_calendar_email(booking, now, body)


def verification_requested(booking, minutes, now):
    """Phone verification: the held booking waits for the link or a reply of 1."""
    office = booking.office
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s\nConfirm %(when)s within %(minutes)d min: "
            "reply 1 or tap\n%(link)s",
            office=office.name, when=sms_when(booking.slot.starts_at, office), minutes=minutes,
            link=public_url("public.verify", token=booking.token),
        )
    queue_sms(booking.phone, booking.locale, "verification", body, now=now, booking=booking,
              valid_until=booking.hold_until)


def verification_known(booking, now):
    """Phone verification: the number asked again for a time at an office where it already
    has one; only its owner learns that, from this SMS."""
    office = booking.office
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s\nYou already have an appointment: %(when)s\n"
            "Change or cancel:\n%(link)s",
            office=office.name, when=sms_when(booking.slot.starts_at, office),
            link=public_url("public.manage", token=booking.token),
        )
    queue_sms(booking.phone, booking.locale, "verification_known", body, now=now, booking=booking)


def waitlist_verification(entry, minutes, now):
    """Phone verification: the held wait joins the queue when the link is tapped or 1 sent."""
    with force_locale(entry.locale):
        body = _(
            "lokal willkommen %(office)s\nConfirm your place on the waitlist within %(minutes)d "
            "min: reply 1 or tap\n%(link)s",
            office=entry.office.name, minutes=minutes,
            link=public_url("waitlist.verify", token=entry.token),
        )
    queue_sms(entry.phone, entry.locale, "verification", body, now=now, office=entry.office,
              valid_until=entry.hold_until)


def waitlist_known(entry, now):
    """Phone verification: the number asked again to wait where it already waits; only its
    owner learns that, from this SMS."""
    with force_locale(entry.locale):
        body = _(
            "lokal willkommen %(office)s\nYou are already on the waitlist.\nDetails:\n%(link)s",
            office=entry.office.name, link=public_url("waitlist.entry", token=entry.token),
        )
    queue_sms(entry.phone, entry.locale, "waitlist_known", body, now=now, office=entry.office,
              dedupe_key=f"waitlist_known:{entry.id}:{now.isoformat()}")
