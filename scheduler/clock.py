"""The clock of the web layer. Services take ``now`` as an argument; views read it here.

Tests and demos set ``CLOCK`` in the configuration to a callable returning an aware datetime.
"""
from flask import current_app

from .models.types import utcnow


def now():
    return current_app.config.get("CLOCK", utcnow)()
