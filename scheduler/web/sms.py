"""Twilio's webhooks: residents' SMS replies and delivery reports.

Both check ``X-Twilio-Signature`` against the URL Twilio called, which is the public base
URL (``PUBLIC_BASE_URL``) and not what a proxy hands on; unsigned or forged requests get 403.
"""
from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from .. import clock
from ..extensions import csrf, db
from ..services import outbox, replies
from ..services.details import FORBIDDEN
from .inputs import query_id
from .outbox import commit_and_send

bp = Blueprint("sms", __name__, url_prefix="/sms")
csrf.exempt(bp)  # Twilio signs its requests; there is no session to protect


@bp.before_request
def check_signature():
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    query = request.query_string.decode()
    url = f"{base}{request.path}" + (f"?{query}" if query else "")
    if not token or not signature or not RequestValidator(token).validate(url, request.form, signature):
        abort(403)


# Twilio's message SIDs are 34 characters, E.164 numbers at most 16; what does not fit our
# columns (a WhatsApp sender, say) is not a resident's SMS and is answered with nothing.
SID_MAX, PHONE_MAX = 64, 20


def form_value(name, longest):
    """A one-line form field, or "" when it is missing, too long or holds control characters."""
    value = request.form.get(name, "").strip()
    return "" if len(value) > longest or FORBIDDEN.search(value) or "\n" in value else value


@bp.post("/inbound")
def inbound():
    sid = form_value("MessageSid", SID_MAX)
    phone = form_value("From", PHONE_MAX)  # Twilio sends E.164, as we store it
    reply = ""
    if sid and phone:
        body = FORBIDDEN.sub("", request.form.get("Body", ""))
        reply = replies.handle(sid, phone, body, clock.now())
        commit_and_send()
    return twiml(reply)


@bp.post("/status")
def status():
    sid = form_value("MessageSid", SID_MAX)
    if sid:
        outbox.record_delivery(
            sid, form_value("MessageStatus", 32), form_value("ErrorCode", 16) or None,
            message_id=query_id("message"),
        )
        db.session.commit()
    return twiml("")


def twiml(text):
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response), 200, {"Content-Type": "text/xml; charset=utf-8"}
