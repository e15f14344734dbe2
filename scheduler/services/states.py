"""State changes that two requests may attempt at once."""
from sqlalchemy import update

from ..extensions import db


def advance(row, from_status, **values):
    """Move ``row`` out of ``from_status`` by one conditional update; True if this call
    moved it, False if another request already had. ``row`` is refreshed either way."""
    model = type(row)
    moved = db.session.execute(
        update(model)
        .where(model.id == row.id, model.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(row)
    return moved
