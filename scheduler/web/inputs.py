"""Parsing what arrives from outside, shared by the pages, the JSON APIs and the webhooks.

Whatever a request carries, it is refused here as the client's mistake (400, 404 or 422)
before it reaches the database: PostgreSQL refuses NUL bytes and integers beyond its
columns, Python's dates end at year 9999, and JSON can nest deeper than Python recurses.
"""
from datetime import date

from flask import abort, request
from flask_babel import lazy_gettext as _l

from ..services.details import FORBIDDEN_MESSAGE, has_forbidden_characters
from ..services.errors import InvalidInput

# Our ids are PostgreSQL INTEGER columns; a larger number names nothing.
ID_MAX = 2**31 - 1
# Dates further out are surely mistakes, and stay clear of Python's year 1 and 9999 edges
# (a day added or a time zone applied there overflows).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def register(app):
    app.before_request(refuse_hostile_arguments)


def refuse_hostile_arguments():
    """Path arguments that can name nothing (control characters, numbers past our ids) are a
    404; query arguments with control characters are a 400."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 <= value <= ID_MAX:
            abort(404)
        if isinstance(value, str) and has_forbidden_characters(value, allow_whitespace=False):
            abort(404)
    for name, value in request.args.items(multi=True):
        if has_forbidden_characters(name + value, allow_whitespace=False):
            abort(400)


def json_object():
    """The request body as a JSON object; 400 for anything else (malformed, too deep, a list)."""
    try:
        data = request.get_json(silent=True, force=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        raise BadJSON()
    return data


class BadJSON(InvalidInput):
    status = 400
    code = "bad_json"
    message = _l("The request body must be a JSON object.")


TYPE_NAMES = {int: _l("Must be a whole number."), str: _l("Must be text."),
              bool: _l("Must be true or false."), list: _l("Must be a list.")}
OUT_OF_RANGE = _l("This number is too large.")


def check_types(data, spec):
    """Refuse missing required fields, values of the wrong JSON type, and text with control
    characters or lone surrogates (422 with ``fields``). Integers are ids: one beyond our
    columns becomes 0, which the service does not find."""
    fields = {}
    for name, (kind, required) in spec.items():
        value = data.get(name)
        if value is None:
            if required:
                fields[name] = _l("This field is required.")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            fields[name] = TYPE_NAMES[kind]
        elif kind is int and abs(value) > ID_MAX:
            data[name] = 0  # our integer fields are ids: 0 names nothing, the service says 404
        elif problem := _hostile_item(value):
            fields[name] = problem
    if fields:
        raise InvalidInput(fields=fields)


def _hostile_item(value):
    """What is wrong with a value or any item of a list (in JSON), or None."""
    if isinstance(value, str):
        return FORBIDDEN_MESSAGE if has_forbidden_characters(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return OUT_OF_RANGE if abs(value) > ID_MAX else None
    if isinstance(value, list):
        return next(filter(None, map(_hostile_item, value)), None)
    if isinstance(value, dict):
        return next(filter(None, map(_hostile_item, [*value.keys(), *value.values()])), None)
    return None


def query_date(name, default, fields):
    """The query argument ``name`` as a date; a wrong one is noted in ``fields``."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    day = parse_date(raw)
    if day is None:
        fields[name] = _l("Must be a date like 2026-03-26.")
        return default
    return day


def parse_date(raw):
    """An ISO date between ``FIRST_DAY`` and ``LAST_DAY``, or None."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def query_id(name):
    """The query argument ``name`` as one of our ids, or None (missing, not a number, too big)."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    return int(raw) if int(raw) <= ID_MAX else None
