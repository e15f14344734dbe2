"""The staff routes of the OpenAPI description (see ``openapi``): ``/api/v1/staff/...``,
each behind ``Authorization: Bearer <token>``; 401 without a valid token, 403 for an office
the account does not belong to or an administrator's action by another account."""

MAX_ID = 2**31 - 1
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE = {"type": "string", "format": "date"}
TEXT = {"type": "string", "maxLength": 200}
ANY_OBJECT = {"type": "object"}
ERROR = {"description": "an error, as JSON",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _answer(description, schema=ANY_OBJECT, media="application/json"):
    return {"description": description, "content": {media: {"schema": schema}}}


def _op(summary, status="200", answer=None, *, body=None, parameters=(), csv=False, also=None):
    responses = {status: answer or _answer(summary), **(also or {})}
    if csv:
        responses[status] = {"description": summary, "content": {
            "application/json": {"schema": ANY_OBJECT}, "text/csv": {"schema": {"type": "string"}}}}
    described = {"summary": summary, "tags": ["staff"], "security": [{"staffToken": []}],
                 "responses": {**responses, "default": ERROR}}
    if parameters:
        described["parameters"] = list(parameters)
    if body is not None:
        described["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    return described


def _path(name, schema=None):
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "string", "maxLength": 80}}


def _query(name, schema, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _body(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required)}


SLUG = _path("slug")
PERIOD = [_query("from", DATE), _query("to", DATE)]
DRY_RUN = _query("dry_run", {"type": "boolean"})
HOURS_ROW = _body({
    "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
    "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
    "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
    "slot_minutes": {"type": "integer", "minimum": 5, "maximum": 240},
    "seats": {"type": "integer", "minimum": 1, "maximum": 20},
    "valid_from": DATE, "valid_until": DATE,
    "languages": {"type": "array", "items": {"type": "string", "maxLength": 10}},
}, required=("weekday", "start", "end"))
OFFICE_FIELDS = {"name": TEXT, "address": TEXT, "note": TEXT, "active": {"type": "boolean"},
                 "languages": {"type": "array", "items": {"type": "string", "maxLength": 10}}}
CHANGE = _answer("what the change does to the bookings", _body({
    "added": {"type": "integer"}, "removed": {"type": "integer"},
    "affected": {"type": "array", "items": {"type": "integer"}}}))

STAFF_PATHS = {
    "/api/v1/staff/offices": {
        "get": _op("The offices the account may see", answer=_answer("offices", _body(
            {"offices": {"type": "array", "items": ANY_OBJECT}}, required=("offices",)))),
        "post": _op("Administrators: create an office", "201", body=_body(
            {"slug": {"type": "string", "maxLength": 60}, **OFFICE_FIELDS},
            required=("slug", "name"))),
    },
    "/api/v1/staff/offices/{slug}": {"patch": _op(
        "Change an office's name, address, languages, note, or close it", parameters=[SLUG],
        body=_body(OFFICE_FIELDS))},
    "/api/v1/staff/accounts": {
        "get": _op("Administrators: the staff accounts"),
        "post": _op("Administrators: create an account", "201", body=_body({
            "email": TEXT, "password": TEXT, "name": TEXT, "admin": {"type": "boolean"},
            "offices": {"type": "array", "items": {"type": "string"}}},
            required=("email", "password"))),
    },
    "/api/v1/staff/accounts/{account_id}": {"patch": _op(
        "Administrators: change an account (a new password ends its sessions and tokens)",
        parameters=[_path("account_id", ID)], body=_body({
            "password": TEXT, "name": TEXT, "admin": {"type": "boolean"},
            "active": {"type": "boolean"},
            "offices": {"type": "array", "items": {"type": "string"}}}))},
    "/api/v1/staff/offices/{slug}/agenda": {"get": _op(
        "Bookings and the waitlist of a period", parameters=[SLUG, *PERIOD],
        answer=_answer("the agenda", _body({"bookings": {"type": "array"},
                                            "waitlist": {"type": "array"}})))},
    "/api/v1/staff/offices/{slug}/bookings": {"post": _op(
        "Book for a walk-in or a caller (no rate limit)", "201", parameters=[SLUG],
        body=_body({"slot_id": ID, "name": TEXT, "phone": {"type": "string", "maxLength": 40},
                    "locale": {"type": "string", "maxLength": 10}, "topic": TEXT},
                   required=("slot_id", "name")))},
    "/api/v1/staff/bookings/{booking_id}/cancel": {"post": _op(
        "Cancel for the resident, who is told by SMS", parameters=[_path("booking_id", ID)],
        body=_body({"reason": TEXT}, required=("reason",)))},
    "/api/v1/staff/bookings/{booking_id}/attendance": {"post": _op(
        "Mark attended or no-show (409 before the appointment began)",
        parameters=[_path("booking_id", ID)],
        body=_body({"status": {"type": "string", "enum": ["attended", "no_show"]}},
                   required=("status",)))},
    "/api/v1/staff/waitlist/{entry_id}": {"delete": _op(
        "Take someone off the waitlist (they are told)",
        parameters=[_path("entry_id", ID), _query("reason", TEXT)])},
    "/api/v1/staff/waitlist/{entry_id}/offer": {"post": _op(
        "Offer this seat to this person now", "201", parameters=[_path("entry_id", ID)],
        body=_body({"slot_id": ID}, required=("slot_id",)))},
    "/api/v1/staff/offices/{slug}/hours": {
        "get": _op("The weekly hours", parameters=[SLUG], answer=_answer("hours", _body(
            {"hours": {"type": "array", "items": ANY_OBJECT}}, required=("hours",)))),
        "put": _op("Replace the weekly hours (dry_run: only say what it would do)",
                   parameters=[SLUG, DRY_RUN], answer=CHANGE,
                   body=_body({"hours": {"type": "array", "items": HOURS_ROW, "maxItems": 50}},
                              required=("hours",))),
    },
    "/api/v1/staff/offices/{slug}/closures": {
        "get": _op("Closures to come", parameters=[SLUG]),
        "post": _op("Close days: 201 when saved; 200 with dry_run (only say what it would do)",
                    "201", parameters=[SLUG, DRY_RUN], answer=CHANGE,
                    body=_body({"start_date": DATE, "end_date": DATE, "reason": TEXT},
                               required=("start_date",)), also={"200": CHANGE}),
    },
    "/api/v1/staff/closures/{closure_id}": {"delete": _op(
        "Remove a closure", parameters=[_path("closure_id", ID)])},
    "/api/v1/staff/offices/{slug}/feed": {"get": _op(
        "The office's calendar feed URL", parameters=[SLUG],
        answer=_answer("the feed", _body({"url": {"type": "string"}}, required=("url",))))},
    "/api/v1/staff/offices/{slug}/feed/renew": {"post": _op(
        "Administrators: a new feed URL; the old one answers 404", parameters=[SLUG])},
    "/api/v1/staff/offices/{slug}/figures": {"get": _op(
        "The evaluation figures of a period", parameters=[
            SLUG, *PERIOD, _query("format", {"type": "string", "enum": ["json", "csv"]})],
        csv=True)},
    "/api/v1/staff/figures": {"get": _op(
        "The figures of all offices the account may see", parameters=[
            *PERIOD, _query("format", {"type": "string", "enum": ["json", "csv"]})], csv=True)},
    "/api/v1/staff/offices/{slug}/simulate": {"post": _op(
        "What if: today's hours against proposed ones", parameters=[SLUG], body=_body({
            "hours": {"type": "array", "items": HOURS_ROW, "maxItems": 50},
            "weeks": {"type": "integer", "minimum": 1, "maximum": 52},
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
            required=("hours",)))},
    "/api/v1/staff/residents": {
        "get": _op("Everything stored about a phone number (data request)",
                   parameters=[_query("phone", {"type": "string", "maxLength": 40}, True)]),
        "delete": _op("Erase everything stored about a phone number",
                      parameters=[_query("phone", {"type": "string", "maxLength": 40}, True)]),
    },
    "/api/v1/staff/audit": {"get": _op("Administrators: the audit log, newest first")},
}
