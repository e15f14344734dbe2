"""Committing a resident's change, then sending what it wrote to the outbox."""
from ..extensions import db
from ..jobs import dispatch_outbox


def commit_and_send(booking):
    """Commit, then send the booking's queued messages now rather than at the next tick.

    A send that fails here stays in the outbox for the dispatcher; the resident's request
    has succeeded either way.
    """
    db.session.commit()
    dispatch_outbox(booking_id=booking.id)
