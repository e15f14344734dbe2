"""Domain errors and HTTP errors to responses, in one place.

The JSON API answers JSON for every error, a routing 404 and a crash included; Twilio's
webhooks answer an empty TwiML ``<Response/>`` (an HTML page would make Twilio retry); pages
answer a page in the resident's language.
"""
import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db
from ..services.errors import DomainError
from . import inputs

log = logging.getLogger(__name__)


def wants_json():
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_messages():
    """Texts for HTTP errors, looked up at request time in the resident's language."""
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist. Please check the link."),
        405: _("This is not possible here."),
        413: _("The request is too large."),
        415: _("Please send JSON."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again later."),
    }


def is_webhook():
    return request.path.startswith("/sms/")


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def error_response(status, message, code, fields=None):
    if is_webhook():
        return EMPTY_TWIML, status, {"Content-Type": "text/xml; charset=utf-8"}
    if wants_json():
        return jsonify(error=str(message), code=code, fields=fields or {}), status
    return render_template("error.html", message=message, status=status), status


def register(app):
    inputs.register(app)  # refuses hostile path and query arguments as 404 and 400

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        fields = {name: str(text) for name, text in error.fields.items()}
        return error_response(error.status, error.message, error.code, fields)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("This form has expired. Please go back, reload the page and try again.")
        return error_response(400, message, "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = error_messages().get(error.code, error.description)
        return error_response(error.code, message, error.name.lower().replace(" ", "_"))

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500, error_messages()[500], "internal_error")

    app.register_error_handler(InternalServerError, unexpected_error)
