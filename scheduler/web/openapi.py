"""The OpenAPI 3.1 description of the JSON API, served at ``GET /api/v1/openapi.json``.

Written as data next to the code it describes; ``tests/test_openapi.py`` keeps it true: every
``/api/v1`` route is described and nothing else, and schemathesis calls every operation with
generated input and checks each answer against it. The staff routes are in ``openapi_staff``.
"""
from flask import Blueprint, jsonify

from .openapi_staff import STAFF_PATHS

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

MAX_ID = 2**31 - 1
TEXT = {"type": "string", "maxLength": 200}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties, required=(), extra=True):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    return schema


def nullable(name):
    return {"oneOf": [ref(name), {"type": "null"}]}


SCHEMAS = {
    "Error": obj({
        "error": {"type": "string", "description": "in the language asked for"},
        "code": {"type": "string", "description": "stable, for programs: e.g. slot_full"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "retry_after": {"type": "integer", "description": "429: seconds to wait"},
    }, required=("error", "code")),
    "Office": obj({
        "slug": {"type": "string"}, "name": {"type": "string"}, "address": NULLABLE_TEXT,
        "languages": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"}, "note": NULLABLE_TEXT,
    }, required=("slug", "name", "languages", "timezone")),
    "Slot": obj({
        "id": {"type": "integer"}, "start": DATETIME, "end": DATETIME,
        "seats": {"type": "integer"}, "available": {"type": "integer"},
        "languages": {"type": "array", "items": {"type": "string"}},
    }, required=("id", "start", "end", "seats", "available")),
    "Offer": obj({
        "token": {"type": "string"}, "kind": {"type": "string"}, "status": {"type": "string"},
        "slot_id": {"type": "integer"}, "start": DATETIME, "end": DATETIME,
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
    }, required=("token", "status", "start")),
    "Booking": obj({
        "token": {"type": "string"}, "status": {"type": "string"}, "start": DATETIME,
        "end": DATETIME, "slot_id": {"type": "integer"}, "office": ref("Office"),
        "name": {"type": "string"}, "phone": NULLABLE_TEXT, "email": NULLABLE_TEXT,
        "topic": NULLABLE_TEXT, "locale": {"type": "string"},
        "notify_earlier": {"type": "boolean"}, "offer": nullable("Offer"),
    }, required=("token", "status", "start", "end", "office")),
    "WaitlistEntry": obj({
        "token": {"type": "string"}, "status": {"type": "string"},
        "position": {"type": ["integer", "null"]}, "office": ref("Office"),
        "name": {"type": "string"}, "phone": NULLABLE_TEXT, "locale": {"type": "string"},
        "weekdays": {"type": "array", "items": {"type": "integer"}},
        "earliest": NULLABLE_TEXT, "latest": NULLABLE_TEXT, "before": NULLABLE_TEXT,
        "offer": nullable("Offer"), "booking": NULLABLE_TEXT,
    }, required=("token", "status", "office")),
    "BookingRequest": obj({
        "slot_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "name": TEXT, "phone": {"type": "string", "maxLength": 40, "examples": ["+4915112345678"]},
        "locale": {"type": "string", "maxLength": 10}, "email": TEXT, "topic": TEXT,
        "notify_earlier": {"type": "boolean"},
    }, required=("slot_id", "name", "phone")),
    "WaitlistRequest": obj({
        "office": {"type": "string", "maxLength": 60}, "name": TEXT,
        "phone": {"type": "string", "maxLength": 40}, "locale": {"type": "string", "maxLength": 10},
        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
        "earliest": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "latest": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "before": DATE, "topic": TEXT,
    }, required=("office", "name", "phone")),
}

ERROR = {"description": "an error, as JSON", "content": {"application/json": {"schema": ref("Error")}}}


def answer(description, schema=None, media="application/json"):
    content = {media: {"schema": schema}} if schema is not None else {}
    return {"description": description, **({"content": content} if content else {})}


def operation(summary, responses, *, body=None, parameters=(), staff=False, tag=None):
    """One operation; every status it does not name answers an ``Error`` (``default``)."""
    described = {"summary": summary, "responses": {**responses, "default": ERROR},
                 "tags": [tag or ("staff" if staff else "residents")]}
    if parameters:
        described["parameters"] = list(parameters)
    if body is not None:
        described["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    if staff:
        described["security"] = [{"staffToken": []}]
    return described


def path_parameter(name, schema=None, description=None):
    parameter = {"name": name, "in": "path", "required": True,
                 "schema": schema or {"type": "string", "maxLength": 80}}
    if description:
        parameter["description"] = description
    return parameter


def query(name, schema, description=None):
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


SLUG = path_parameter("slug", description="the office, e.g. lanstrop")
TOKEN = path_parameter("token", description="the secret token from the SMS link")
BOOKING = answer("the booking", ref("Booking"))
HELD = answer("with BOOKING_VERIFICATION=sms, for every number: held until the SMS is answered",
              obj({"status": {"type": "string", "const": "verification_sent"},
                   "confirm_within_minutes": {"type": "integer"}},
                  required=("status", "confirm_within_minutes")))
ENTRY = answer("the waiting", ref("WaitlistEntry"))

RESIDENT_PATHS = {
    "/api/v1/offices": {"get": operation("Offices that take bookings", {
        "200": answer("the offices", obj({"offices": {"type": "array", "items": ref("Office")}},
                                         required=("offices",)))})},
    "/api/v1/offices/{slug}/slots": {"get": operation(
        "Times of an office between two days (at most 92 days)", {
            "200": answer("the times", obj({
                "office": ref("Office"), "from": DATE, "to": DATE,
                "slots": {"type": "array", "items": ref("Slot")}}, required=("slots",)))},
        parameters=[SLUG, query("from", DATE, "first day (default today)"),
                    query("to", DATE, "last day (default two weeks on)"),
                    query("language", {"type": "string"}, "only hours where it is spoken")])},
    "/api/v1/bookings": {"post": operation("Book a seat", {
        "201": BOOKING, "202": HELD}, body=ref("BookingRequest"))},
    "/api/v1/bookings/{token}": {"get": operation("A booking and its offer of an earlier time",
                                                  {"200": BOOKING}, parameters=[TOKEN])},
    "/api/v1/bookings/{token}/cancel": {"post": operation(
        "Cancel (idempotent)", {"200": BOOKING}, parameters=[TOKEN])},
    "/api/v1/bookings/{token}/change": {"post": operation(
        "Move to another free time of the same office", {"200": BOOKING}, parameters=[TOKEN],
        body=obj({"slot_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
                 required=("slot_id",)))},
    "/api/v1/bookings/{token}/earlier": {"post": operation(
        "Ask for (or stop) offers of an earlier time", {"200": BOOKING}, parameters=[TOKEN],
        body=obj({"notify_earlier": {"type": "boolean"}}, required=("notify_earlier",)))},
    "/api/v1/bookings/{token}/ics": {"get": operation(
        "The appointment for a calendar", {"200": answer("iCalendar", {"type": "string"},
                                                         "text/calendar")},
        parameters=[TOKEN])},
    "/api/v1/waitlist": {"post": operation("Join an office's waitlist", {"201": ENTRY, "202": HELD},
                                           body=ref("WaitlistRequest"))},
    "/api/v1/waitlist/{token}": {"get": operation("A waiting, its place and offer",
                                                  {"200": ENTRY}, parameters=[TOKEN])},
    "/api/v1/waitlist/{token}/leave": {"post": operation("Leave the waitlist", {"200": ENTRY},
                                                         parameters=[TOKEN])},
    "/api/v1/offers/{token}/accept": {"post": operation(
        "Take the offered time; 410 when it expired or was taken", {
            "200": answer("booked", obj({"offer": ref("Offer"), "booking": ref("Booking")},
                                        required=("offer", "booking")))},
        parameters=[TOKEN])},
    "/api/v1/offers/{token}/decline": {"post": operation(
        "Decline the offered time", {"200": answer("declined", obj({"offer": ref("Offer")}))},
        parameters=[TOKEN])},
    "/api/v1/openapi.json": {"get": operation("This description", {
        "200": answer("OpenAPI 3.1", {"type": "object"})}, tag="meta")},
}


def describe():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lokal willkommen appointments",
            "version": "1",
            "description": "Booking and waitlist for Dortmund's lokal willkommen offices. "
                           "Every answer is JSON, errors included; request bodies are JSON "
                           "objects. Staff routes need `Authorization: Bearer <token>`.",
        },
        "paths": {**RESIDENT_PATHS, **STAFF_PATHS},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer",
                                               "description": "flask --app wsgi staff token EMAIL"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(describe())
