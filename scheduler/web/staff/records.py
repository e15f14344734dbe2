"""Data requests (GDPR), the audit log and the office's calendar feed URL.

Data requests and the audit log are for administrators; the feed URL for the office's
staff, its renewal for administrators. Phone numbers of data requests travel in POST
bodies on the pages, never in URLs, so they stay out of server logs and browser history.
"""
import json

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import clock
from ...services import audit_log, data_requests, offices
from ...services import staff as accounts
from ...services.errors import InvalidInput
from ...urls import public_url
from ..forms import ConfirmForm, submit
from ..inputs import TYPE_NAMES, query_date, query_id
from ..outbox import commit_and_send
from .access import actor
from .admin_forms import AuditFilterForm, EraseForm, LookupForm
from .blueprints import api, pages


def feed_texts():
    """The labels of the calendar feed, in the current locale (a staff language)."""
    return {"appointment": _("Appointment"), "cancelled": _("Cancelled"), "language": _("Language"),
            "topic": _("Topic")}


# The calendar feed ------------------------------------------------------------------------

@pages.get("/offices/<slug>/feed")
def feed(slug):
    me = actor()
    office = accounts.office_for(me, slug)
    url = public_url("feed.calendar", token=offices.feed_token(office))
    commit_and_send()  # the token is made on first use
    return render_template("staff/records_feed.html", office=office, url=url, form=ConfirmForm(),
                           may_renew=me.is_admin)


@pages.route("/offices/<slug>/feed/renew", methods=["GET", "POST"])
def renew_feed(slug):
    """GET asks to confirm; POST renews."""
    me = actor()
    office = accounts.office_for(me, slug)
    accounts.require_admin(me)
    form = ConfirmForm()
    if form.validate_on_submit():
        offices.renew_feed(me, office, clock.now())
        commit_and_send()
        flash(_l("The calendar feed has a new address. The old one no longer works."))
        return redirect(url_for("staff.feed", slug=office.slug), code=303)
    return render_template("staff/records_feed_renew.html", office=office, form=form)


@api.get("/offices/<slug>/feed")
def feed_url(slug):
    office = accounts.office_for(actor(), slug)
    url = public_url("feed.calendar", token=offices.feed_token(office))
    commit_and_send()
    return jsonify(url=url)


@api.post("/offices/<slug>/feed/renew")
def renew_feed_url(slug):
    me = actor()
    office = accounts.office_for(me, slug)
    token = offices.renew_feed(me, office, clock.now())
    commit_and_send()
    return jsonify(url=public_url("feed.calendar", token=token))


# Data requests ----------------------------------------------------------------------------

@pages.route("/residents", methods=["GET", "POST"])
def residents():
    me = actor()
    accounts.require_admin(me)
    form = LookupForm()
    found, error = submit(form, lambda: data_requests.look_up(me, form.phone.data, clock.now()))
    if found is not None:
        commit_and_send()  # the audit entry: someone looked
    status = 422 if form.errors else 200
    return render_template("staff/records_residents.html", form=form, found=found, error=error,
                           erase_form=EraseForm(formdata=None, phone=found.phone if found else ""),
                           export_form=EraseForm(formdata=None, phone=found.phone if found else ""),
                           when=format_datetime), status


@pages.post("/residents/export")
def export_resident():
    me = actor()
    accounts.require_admin(me)
    form = EraseForm()
    if not form.validate_on_submit():
        return redirect(url_for("staff.residents"), code=303)
    now = clock.now()
    found = data_requests.look_up(me, form.phone.data, now)
    commit_and_send()
    return _download(data_requests.as_json(found, now), now)


@pages.post("/residents/erase")
def erase_resident():
    """Without the ticked box: the confirmation page. With it: the erasure."""
    me = actor()
    accounts.require_admin(me)
    form = EraseForm()
    if form.validate_on_submit() and form.confirm.data:
        counts = data_requests.erase(me, form.phone.data, clock.now())
        commit_and_send()
        flash(_l("Erased: bookings %(bookings)d (future ones cancelled: %(cancelled)d), waitlist entries "
                 "%(waitlist)d, offers %(offers)d, messages %(messages)d, SMS replies %(replies)d.", **counts))
        return redirect(url_for("staff.residents"), code=303)
    found = data_requests.look_up(me, form.phone.data, clock.now(), record=False)
    return render_template("staff/records_erase.html", form=form, found=found, when=format_datetime)


def _download(export, now):
    body = json.dumps(export, ensure_ascii=False, indent=2)
    return body, 200, {
        "Content-Type": "application/json; charset=utf-8",
        # No number in the file name: it would end up in the downloads folder and its history.
        "Content-Disposition": f'attachment; filename="data-request-{now:%Y-%m-%d}.json"',
    }


@api.get("/residents")
def resident_export():
    now = clock.now()
    found = data_requests.look_up(actor(), request.args.get("phone", ""), now)
    commit_and_send()
    return jsonify(data_requests.as_json(found, now))


@api.delete("/residents")
def erase_resident_api():
    counts = data_requests.erase(actor(), request.args.get("phone", ""), clock.now())
    commit_and_send()
    return jsonify(counts)


# The audit log ----------------------------------------------------------------------------

@pages.get("/audit")
def audit():
    me = actor()
    form = AuditFilterForm(accounts.visible_offices(me), accounts.list_accounts(me), formdata=request.args)
    entries, more = [], False
    if form.validate():
        try:
            found = audit_log.search(
                me, office=form.office.data or None, staff=form.staff.data or None, action=form.action.data,
                since=form.since.data, until=form.until.data, before_id=form.before_id.data,
                limit=audit_log.PAGE_SIZE + 1,  # one more: is there an older page?
            )
        except InvalidInput as invalid:
            form.until.errors = [*form.until.errors, *invalid.fields.values()]
        else:
            entries, more = found[:audit_log.PAGE_SIZE], len(found) > audit_log.PAGE_SIZE
    filters = {key: value for key, value in request.args.items() if key not in ("before_id", "lang") and value}
    older = url_for("staff.audit", **filters, before_id=entries[-1].id) if more else None
    return render_template("staff/records_audit.html", form=form, entries=entries, older=older,
                           actions=audit_log.actions(), when=format_datetime), 422 if form.errors else 200


@api.get("/audit")
def audit_json():
    args, fields, values = request.args, {}, {}
    for name in ("from", "to"):
        values[name] = query_date(name, None, fields)
    for name in ("before_id", "limit"):
        values[name] = query_id(name)
        if args.get(name) and values[name] is None:
            fields[name] = TYPE_NAMES[int]
    if fields:
        raise InvalidInput(fields=fields)
    entries = audit_log.search(
        actor(), office=args.get("office") or None, staff=args.get("staff") or None, action=args.get("action"),
        since=values["from"], until=values["to"], before_id=values["before_id"],
        limit=values["limit"] or audit_log.PAGE_SIZE,
    )
    return jsonify(entries=[entry_json(entry) for entry in entries])


def entry_json(entry):
    return {
        "id": entry.id, "at": entry.at.isoformat(), "staff": entry.staff.email if entry.staff else None,
        "office": entry.office.slug if entry.office else None, "action": entry.action,
        "record_type": entry.record_type, "record_id": entry.record_id,
        "before": entry.before, "after": entry.after,
    }
