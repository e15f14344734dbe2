"""The application's clock. Services take ``now`` as an argument; views, commands and jobs
read it here and pass it on.

Tests and demos set ``CLOCK`` in the configuration to a callable returning an aware datetime.
"""
from flask import current_app

from .models.types import utcnow


def now():
    return current_app.config.get("CLOCK", utcnow)()
