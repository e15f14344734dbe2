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


@bp.post("/inbound")
def inbound():
    sid = request.form.get("MessageSid", "")
    phone = request.form.get("From", "").strip()  # Twilio sends E.164, as we store it
    reply = ""
    if sid and phone:
        reply = replies.handle(sid, phone, request.form.get("Body", ""), clock.now())
        commit_and_send()
    return twiml(reply)


@bp.post("/status")
def status():
    sid = request.form.get("MessageSid", "")
    if sid:
        outbox.record_delivery(
            sid, request.form.get("MessageStatus", ""), request.form.get("ErrorCode"),
            message_id=request.args.get("message", type=int),
        )
        db.session.commit()
    return twiml("")


def twiml(text):
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response), 200, {"Content-Type": "text/xml; charset=utf-8"}
