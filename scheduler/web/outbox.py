"""Committing a resident's change with the messages it wrote; the scheduler sends them."""
from flask import current_app

from ..extensions import db
from ..services import outbox


def commit_and_send():
    """Commit, and leave the sending to the scheduler's dispatcher: no request waits on an
    SMS or mail provider, and none holds a transaction while one is called.

    The dispatcher hears of the messages at once: on PostgreSQL by ``NOTIFY outbox``, which
    a trigger on the message table issues and the commit delivers; on SQLite by its poll of
    the due messages; and a scheduler loop running in this very process (``flask demo``) is
    woken directly.

    The commit does not expire what the request loaded: the view renders what it has just
    written without reading it back.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    if outbox.tracked() and (wake := current_app.extensions.get("outbox_wake")) is not None:
        wake()
