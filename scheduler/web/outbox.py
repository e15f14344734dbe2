"""Sending what a request wrote to the outbox, once its transaction is committed."""
from ..jobs import dispatch_outbox


def send_after_commit(booking):
    """Send the booking's queued messages now rather than at the scheduler's next tick.

    A send that fails here stays in the outbox for the dispatcher; the resident's request
    has succeeded either way.
    """
    dispatch_outbox(booking_id=booking.id)
