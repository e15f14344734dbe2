"""Residents' rate limits, counted on what matters.

Two kinds, both kept in ``RATELIMIT_STORAGE_URI`` (Redis in production, so that all workers
share them):

- per address (``RATELIMIT_BOOKING``): one bucket for booking and joining a waitlist, page
  and API alike; only a booking or a wait that was made counts, never a typing mistake;
- per phone number (``RATELIMIT_SMS_PER_NUMBER``): the resident actions that text a number
  (book, join, change, cancel), so nobody can use the service to flood one phone.

A view asks ``check(...)`` before it calls its service, and ``count(...)`` after the service
succeeded. Staff (a logged-in session or a staff API token) are never limited. A refusal is
``Refused``: the API answers 429 JSON with ``retry_after``; the booking and waitlist pages
render their form again with what the resident typed (``refused_page``).
"""
import logging
import time
from datetime import timedelta

from flask import current_app, jsonify, render_template, request
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .. import clock
from ..services import phones
from ..services import staff as accounts
from ..services.errors import InvalidInput
from .errors import wants_json

log = logging.getLogger(__name__)

EXTENSION = "resident_limits"


class Refused(Exception):
    """Over a limit: try again in ``retry_after`` seconds; ``kind`` is "address" or "phone"."""

    def __init__(self, kind, retry_after):
        super().__init__(kind)
        self.kind, self.retry_after = kind, max(1, int(retry_after))

    @property
    def message(self):
        when = try_again_at(self.retry_after)
        if self.kind == "phone":
            return _("Too many text messages to this number. Please try again after %(time)s.", time=when)
        return _("Too many bookings from this connection. What you typed is still here: "
                 "please try again after %(time)s.", time=when)


def init_app(app):
    """A limiter of its own per application, on the configured storage; warn loudly when the
    storage is per process (memory://) in production, where each worker would count alone."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    storage = storage_from_string(uri, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
    app.extensions[EXTENSION] = FixedWindowRateLimiter(storage)
    app.register_error_handler(Refused, refused_response)
    if uri.startswith("memory://") and app.config["RATELIMIT_ENABLED"] and not (app.testing or app.debug):
        app.logger.warning(
            "RATELIMIT_STORAGE_URI is memory://: every worker process keeps its own rate limits, "
            "so with N workers a client gets N times the limit. Use Redis in production, e.g. "
            "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (see README, Production).")


def exempt():
    """Staff are never limited: a logged-in staff session, or a staff API token."""
    if current_user.is_authenticated:
        return True
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and accounts.account_for_token(token.strip()) is not None


def check(phone=None):
    """Raise ``Refused`` if the address, or the number ``phone`` (as typed or stored), is over
    its limit. A number that does not parse is left to the service to refuse."""
    if not current_app.config["RATELIMIT_ENABLED"] or exempt():
        return
    if wait := _wait("RATELIMIT_BOOKING", "address", request.remote_addr or ""):
        raise Refused("address", wait)
    check_number(phone)


def check_number(phone):
    """Only the per-number limit: for changing and cancelling, which text the resident."""
    if current_app.config["RATELIMIT_ENABLED"] and not exempt():
        if number := _number(phone):
            if wait := _wait("RATELIMIT_SMS_PER_NUMBER", "phone", number):
                raise Refused("phone", wait)


def count(phone=None, address=True):
    """Count a success: against the address (booking, waitlist) and the number texted."""
    if not current_app.config["RATELIMIT_ENABLED"] or exempt():
        return
    if address:
        _hit("RATELIMIT_BOOKING", "address", request.remote_addr or "")
    if number := _number(phone):
        _hit("RATELIMIT_SMS_PER_NUMBER", "phone", number)


def refused_response(refused):
    """429 with Retry-After: JSON with ``retry_after`` on the API, the error page elsewhere."""
    if wants_json():
        response = jsonify(error=refused.message, code="too_many_requests", fields={},
                           retry_after=refused.retry_after)
    else:
        response = current_app.make_response(render_template("error.html", message=refused.message,
                                                             status=429))
    return with_retry_after(response, refused)


def refused_page(body, refused):
    """A page (the form again, with what the resident typed) as a 429 with Retry-After."""
    return with_retry_after(current_app.make_response((body, 429)), refused)


def with_retry_after(response, refused):
    response.status_code = 429
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


def try_again_at(seconds):
    """The local time from which a new try may succeed; with the date when it is far off."""
    moment = clock.now() + timedelta(seconds=seconds)
    return format_datetime(moment, "short") if seconds > 12 * 3600 else format_time(moment, "short")


def _number(phone):
    if not phone:
        return None
    try:
        return phones.normalise_any(phone)
    except InvalidInput:
        return None


def _identifiers(kind, value):
    return (current_app.config.get("RATELIMIT_KEY_PREFIX", "") or "lw", "resident", kind, value)


def _wait(key, kind, value):
    """Seconds until ``value`` is under every limit of config ``key``; 0 when it is now."""
    limiter, ids = current_app.extensions[EXTENSION], _identifiers(kind, value)
    waits = [limiter.get_window_stats(limit, *ids).reset_time - time.time()
             for limit in parse_many(current_app.config[key]) if not limiter.test(limit, *ids)]
    return max(waits, default=0)


def _hit(key, kind, value):
    limiter, ids = current_app.extensions[EXTENSION], _identifiers(kind, value)
    for limit in parse_many(current_app.config[key]):
        limiter.hit(limit, *ids)
