"""Committing a resident's change, then sending what it wrote to the outbox."""
from ..extensions import db
from ..jobs import dispatch_outbox
from ..services import outbox


def commit_and_send():
    """Commit, then send the messages this request wrote now rather than at the next tick:
    the resident's confirmation, and the offer to whoever gets a freed seat.

    A send that fails here stays in the outbox for the dispatcher; the request has
    succeeded either way. Messages held for quiet hours are not due yet and wait.
    """
    db.session.commit()
    if ids := outbox.tracked_ids():
        dispatch_outbox(message_ids=ids)
