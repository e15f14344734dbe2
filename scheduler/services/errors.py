"""Domain errors. Views map them to responses in one place (``web.errors``)."""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    code = "error"
    message = _l("The request could not be processed.")

    def __init__(self, message=None, fields=None):
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        self.fields = fields or {}


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = _l("You are not allowed to do this.")


class Conflict(DomainError):
    """A change that contradicts the state it meets; ``code`` says which."""

    status = 409
    code = "conflict"
    message = _l("This is not possible in the current state.")

    def __init__(self, message=None, fields=None, code=None):
        super().__init__(message, fields)
        if code is not None:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = _l("Not found.")


class InvalidInput(DomainError):
    status = 422
    code = "invalid"
    message = _l("Please check your input.")


class SlotFull(DomainError):
    status = 409
    code = "slot_full"
    message = _l("This time has just been booked by someone else. Please choose another time.")


class SlotInPast(DomainError):
    status = 409
    code = "slot_past"
    message = _l("This time has already passed. Please choose another time.")


class SlotRemoved(DomainError):
    status = 409
    code = "slot_removed"
    message = _l("The office is closed at this time now. Please choose another time.")


class AlreadyBooked(DomainError):
    status = 409
    code = "already_booked"
    message = _l("This phone number already has an appointment at this time.")


class TooManyBookings(DomainError):
    status = 409
    code = "too_many_bookings"
    message = _l(
        "This phone number already has an upcoming appointment at this office. "
        "Please cancel it first if you need another time."
    )


class TooLateToCancel(DomainError):
    status = 409
    code = "too_late"
    message = _l("This appointment has already begun and can no longer be cancelled.")


class AlreadyWaiting(DomainError):
    status = 409
    code = "already_waiting"
    message = _l("This phone number is already on the waitlist of this office.")


class OfferGone(DomainError):
    """An offer that can no longer be accepted: expired, declined, withdrawn or taken."""

    status = 410
    code = "offer_gone"
    message = _l("Sorry, this offer is no longer open. The time has gone to someone else.")
