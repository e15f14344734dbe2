"""What residents are told, in their language, written to the outbox with the change itself."""
from flask_babel import force_locale, gettext as _

from ..extensions import db
from ..i18n import local_when
from ..models import Message
from ..urls import public_url


def booking_confirmed(booking):
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s: your appointment is on %(when)s, %(address)s. "
            "Change or cancel: %(link)s",
            office=booking.office.name,
            when=local_when(booking.slot.starts_at, booking.office),
            address=booking.office.address,
            link=public_url("public.manage", token=booking.token),
        )
    return queue_sms(booking, "confirmation", body)


def booking_cancelled(booking):
    with force_locale(booking.locale):
        body = _(
            "lokal willkommen %(office)s: your appointment on %(when)s is cancelled. "
            "Book a new one: %(link)s",
            office=booking.office.name,
            when=local_when(booking.slot.starts_at, booking.office),
            link=public_url("public.office", slug=booking.office.slug),
        )
    return queue_sms(booking, "cancellation", body)


def queue_sms(booking, kind, body):
    message = Message(
        channel="sms", to=booking.phone, kind=kind, locale=booking.locale, body=body,
        booking_id=booking.id,
    )
    db.session.add(message)
    return message
