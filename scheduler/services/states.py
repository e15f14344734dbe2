"""State changes that two requests may attempt at once."""
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from ..extensions import db


def advance(row, from_status, **values) -> bool:
    """Move ``row`` out of ``from_status`` by one conditional update; True if this call
    moved it, False if another request already had.

    When it moved, ``row`` takes the values it was given without reading itself back (a
    value computed by the database, such as ``sequence + 1``, loads when next read); when
    another request was first, ``row`` is refreshed: what it did is the truth now.
    """
    model = type(row)
    moved = db.session.execute(
        update(model)
        .where(model.id == row.id, model.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not moved:
        db.session.refresh(row)
        return False
    computed = [key for key, value in values.items() if isinstance(value, ClauseElement)]
    for key, value in values.items():
        if key not in computed:
            set_committed_value(row, key, value)
    if computed:
        db.session.expire(row, computed)
    return True
