"""What residents are told, in their language, written to the outbox with the change itself.

SMS texts are short on purpose: Arabic and other non-Latin SMS are UCS-2, 67 characters a
segment, and ``tests/test_sms_texts.py`` keeps every text within two segments.
"""
from datetime import timedelta

from babel.dates import format_timedelta
from flask_babel import force_locale, get_locale, gettext as _

from ..extensions import db
from ..i18n import local_when
from ..models import Message, MessageStatus, OfferKind, OptOut
from ..urls import public_url
from . import calendar, outbox, policy


def booking_confirmed(booking, now):
    """Also sent when an offer is accepted: the booking is new or has moved."""
    with force_locale(booking.locale):
        body = _(
            "%(office)s: your appointment is on %(when)s, %(address)s. Change or cancel: %(link)s",
            office=booking.office.name,
            when=local_when(booking.slot.starts_at, booking.office),
            address=booking.office.address,
            link=public_url("public.manage", token=booking.token),
        )
    queue_sms(booking.phone, booking.locale, "confirmation", body, booking=booking)
    queue_calendar_email(booking, now)


def booking_cancelled(booking, now):
    with force_locale(booking.locale):
        body = _(
            "%(office)s: your appointment on %(when)s is cancelled. Book a new one: %(link)s",
            office=booking.office.name,
            when=local_when(booking.slot.starts_at, booking.office),
            link=public_url("public.office", slug=booking.office.slug),
        )
    queue_sms(booking.phone, booking.locale, "cancellation", body, booking=booking)
    queue_calendar_email(booking, now)


def booking_reminder(booking, lead_hours, now):
    """Once per booking and lead time, whichever process gets there first (``dedupe_key``)."""
    office = booking.office
    with force_locale(booking.locale):
        body = _(
            "%(office)s: reminder, your appointment is on %(when)s, %(address)s. "
            "Cannot come? Reply 2 or cancel: %(link)s",
            office=office.name,
            when=local_when(booking.slot.starts_at, office),
            address=office.address,
            link=public_url("public.manage", token=booking.token),
        )
    return queue_sms(
        booking.phone, booking.locale, "reminder", body, booking=booking,
        due_at=policy.sending_time(now, office), valid_until=booking.slot.starts_at,
        dedupe_key=f"reminder:{booking.id}:{lead_hours}",
    )


def waitlist_joined(entry, position):
    with force_locale(entry.locale):
        body = _(
            "%(office)s: you are number %(position)d on the waitlist. We will text you when "
            "a time is free. Details: %(link)s",
            office=entry.office.name, position=position,
            link=public_url("waitlist.entry", token=entry.token),
        )
    queue_sms(entry.phone, entry.locale, "waitlist", body)


def offer_made(offer, hold, due_at):
    """The offer goes out at ``due_at`` (after quiet hours); its hold starts when it does,
    so the text says how long, not until when."""
    office = offer.office
    with force_locale(offer.locale):
        values = dict(
            office=office.name, when=local_when(offer.slot.starts_at, office),
            hold=hold_text(hold), link=public_url("waitlist.offer", token=offer.token),
        )
        if offer.kind == OfferKind.MOVE_UP:
            body = _(
                "%(office)s: an earlier time is free: %(when)s. Held for you for %(hold)s. "
                "Reply 1 to move your appointment, 2 to keep it, or see %(link)s",
                **values,
            )
        else:
            body = _(
                "%(office)s: a time is free for you: %(when)s. Held for you for %(hold)s. "
                "Reply 1 to take it, 2 to decline, or see %(link)s",
                **values,
            )
    # valid_until is set when the message is sent and the hold begins (see outbox.reason_to_skip).
    return queue_sms(offer.phone, offer.locale, "offer", body, offer=offer, due_at=due_at,
                     valid_until=offer.slot.starts_at)


def hold_text(hold):
    """"3 hours", "90 minutes": whole hours in hours, anything else in minutes."""
    minutes = int(hold.total_seconds() // 60)
    if minutes % 60 == 0:
        return format_timedelta(timedelta(hours=minutes // 60), locale=get_locale())
    return format_timedelta(timedelta(minutes=minutes), threshold=100, locale=get_locale())


def queue_sms(phone, locale, kind, body, *, booking=None, offer=None, due_at=None,
              valid_until=None, dedupe_key=None):
    """Write an SMS to the outbox. To a number that replied STOP it is kept, as skipped."""
    message = Message(
        channel="sms", to=phone, kind=kind, locale=locale, body=body, booking=booking,
        offer=offer, valid_until=valid_until, dedupe_key=dedupe_key,
    )
    if due_at is not None:
        message.due_at = due_at
    if db.session.get(OptOut, phone) is not None:
        message.status, message.error = MessageStatus.SKIPPED, "opted out (STOP)"
    db.session.add(message)
    outbox.track(message)
    return message


def queue_calendar_email(booking, now):
    """An invitation (or its cancellation) for residents who gave an e-mail address."""
    if not booking.email:
        return None
    office = booking.office
    cancelled = booking.status == "cancelled"
    with force_locale(booking.locale):
        subject = (
            _("Cancelled: appointment at lokal willkommen %(office)s", office=office.name)
            if cancelled else _("Appointment at lokal willkommen %(office)s", office=office.name)
        )
        body = _(
            "%(when)s, %(address)s. Change or cancel: %(link)s",
            when=local_when(booking.slot.starts_at, office), address=office.address,
            link=public_url("public.manage", token=booking.token),
        )
    message = Message(
        channel="email", to=booking.email, kind="invite", locale=booking.locale,
        subject=subject, body=body, booking=booking,
        attachment=calendar.booking_calendar(
            booking, now, method="CANCEL" if cancelled else "REQUEST"
        ).decode(),
    )
    db.session.add(message)
    outbox.track(message)
    return message
