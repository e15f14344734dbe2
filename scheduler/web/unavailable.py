"""A database that cannot serve answers 503, not 500: unreachable, not migrated, or a lock
or statement timeout. Pages get a page, the API JSON, Twilio's webhooks TwiML, each with
``Retry-After``; anything else a statement raises stays a crash (``errors``)."""
import logging

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from ..database import LOCKED, classify, describe
from ..extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER = {LOCKED: "5"}  # seconds; a missing or unmigrated database takes longer
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def register(app):
    @app.errorhandler(DBAPIError)
    def database_error(error):
        cause = classify(error)
        if cause is None:
            raise error  # a bug, not the database's state: the 500 handler logs it
        db.session.rollback()
        log.warning("database %s (%s) on %s %s: %s", cause, describe(app.config["SQLALCHEMY_DATABASE_URI"]),
                    request.method, request.path, type(getattr(error, "orig", error)).__name__)
        response = _response(cause)
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER.get(cause, "60")
        return response


def _response(cause):
    if request.path.startswith("/sms/"):
        return app_response(TWIML_EMPTY, "text/xml")
    message = _("The service is briefly unavailable. Please try again in a few minutes.")
    if request.path.startswith("/api/") or request.path == "/healthz":
        return jsonify(error=message, code="unavailable", fields={}, database=cause)
    try:
        return app_response(render_template("error.html", message=message, status=503), "text/html")
    except Exception:  # the page itself needs the database (a staff account, say)
        return app_response(message, "text/plain")


def app_response(body, mimetype):
    return current_app.response_class(body, mimetype=mimetype)
