"""Weekly hours and closures of an office, with a preview of what a change does.

Saving is two steps without JavaScript: "Preview" shows what the change adds, removes and
shrinks and whom it moves; "Save" re-submits the same form with the preview's fingerprint,
and ``services.schedule`` saves only if the change would still do exactly that (else the
new preview is shown). The API answers the same comparison; ``dry_run=true`` saves nothing.
"""
from babel import Locale
from babel.dates import format_date, get_day_names
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from ... import clock
from ...extensions import db
from ...i18n import local_when
from ...models import BookingSource
from ...services import hours as rules
from ...services import schedule
from ...services import staff as accounts
from ...services.errors import InvalidInput, NotFound
from ..forms import Form as CheckedForm
from ..inputs import check_types, json_object
from ..outbox import commit_and_send
from .access import actor
from .blueprints import api, pages

BLANK_ROWS = 2
SOURCES = {
    BookingSource.ONLINE: _l("online"), BookingSource.WALK_IN: _l("walk-in"),
    BookingSource.PHONE: _l("by phone"), BookingSource.WAITLIST: _l("from the waitlist"),
    BookingSource.MOVE_UP: _l("moved up"),
}
KINDS = {"added": _l("added"), "removed": _l("removed"), "shrunk": _l("fewer seats"),
         "grown": _l("more seats"), "changed": _l("other length")}


def weekday_choices():
    return [(str(day), name) for day, name in get_day_names("wide", locale=get_locale()).items()]


def language_choices():
    """The residents' languages besides German, named in the page's language."""
    return [(code, language_name(code)) for code in current_app.config["LANGUAGES"] if code != "de"]


def language_name(code):
    return Locale.parse(code).get_display_name(get_locale()) or code


class RuleForm(Form):
    weekday = SelectField(_l("Weekday"), choices=weekday_choices)
    start = StringField(_l("From"), render_kw={"type": "time"})
    end = StringField(_l("Until"), render_kw={"type": "time"})
    slot_minutes = StringField(_l("Minutes each"), render_kw={"type": "number", "min": 5, "step": 5})
    seats = StringField(_l("Seats"), render_kw={"type": "number", "min": 1, "max": 50})
    valid_from = StringField(_l("Valid from"), render_kw={"type": "date"})
    valid_until = StringField(_l("Valid until"), render_kw={"type": "date"})
    languages = SelectMultipleField(_l("Languages besides German"), choices=language_choices,
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    remove = BooleanField(_l("Remove"))

    def is_blank(self):
        return not (self.start.data or "").strip() and not (self.end.data or "").strip()


class HoursForm(CheckedForm):
    hours = FieldList(FormField(RuleForm), max_entries=60)
    fingerprint = HiddenField()

    def fill(self, office_hours):
        for rule in office_hours:
            self.hours.append_entry({**rules.rule_json(rule), "weekday": str(rule.weekday)})

    def add_blank_rows(self):
        while sum(1 for entry in self.hours if entry.is_blank()) < BLANK_ROWS:
            self.hours.append_entry({"weekday": "0", "slot_minutes": "30", "seats": "1"})

    def proposal(self):
        """The rules to save and, for each, the row it came from (to place errors)."""
        rows = [entry for entry in self.hours if not entry.remove.data and not entry.is_blank()]
        items = [{name: entry[name].data for name in (
            "weekday", "start", "end", "slot_minutes", "seats", "valid_from", "valid_until", "languages")}
            for entry in rows]
        return items, rows

    def show_errors(self, fields, rows):
        for key, message in fields.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
                rows[int(parts[1])][parts[2]].errors.append(message)
            else:
                self.form_errors.append(message)


class ClosureForm(CheckedForm):
    start_date = StringField(_l("First day"), render_kw={"type": "date"})
    end_date = StringField(_l("Last day"), description=_l("Empty for a single day."), render_kw={"type": "date"})
    reason = StringField(_l("Reason"), description=_l("For staff; residents only hear that the office is closed."),
                         render_kw={"maxlength": 200})
    fingerprint = HiddenField()


class ConfirmChangeForm(CheckedForm):
    fingerprint = HiddenField()


def _saving():
    return request.form.get("action") == "save"


def _saved(change):
    summary = change.summary()
    flash(_("Saved: %(added)d times added, %(removed)d removed, %(shrunk)d with fewer seats; "
            "%(moved)d appointments moved.", added=summary["added"], removed=summary["removed"],
            shrunk=summary["shrunk"], moved=len(summary["affected"])))
    commit_and_send()


def long_date(day):
    return format_date(day, "full", locale=get_locale())


def _page(template, office, **context):
    return render_template(template, office=office, kinds=KINDS, sources=SOURCES, long_date=long_date,
                           language_name=language_name, local_when=local_when, **context)


@pages.route("/offices/<slug>/hours", methods=["GET", "POST"])
def hours(slug):
    office = accounts.office_for(actor(), slug)
    form, change, stale, status = HoursForm(), None, False, 200
    if request.method == "GET":
        form.fill(office.hours)
    elif form.validate_on_submit():
        items, rows = form.proposal()
        try:
            change = schedule.replace_hours(office, items, now=clock.now(), actor=actor(), dry_run=not _saving(),
                                            expected=form.fingerprint.data if _saving() else None)
        except InvalidInput as invalid:
            db.session.rollback()
            form.show_errors(invalid.fields, rows)
            status = 422
        else:
            if change.applied:
                _saved(change)
                return redirect(url_for("staff.hours", slug=slug), code=303)
            stale = _saving()
            form.fingerprint.data = change.fingerprint
    else:
        status = 422
    form.add_blank_rows()
    return _page("staff/hours.html", office, form=form, change=change, stale=stale, invalid=status == 422), status


@pages.route("/offices/<slug>/closures", methods=["GET", "POST"])
def closures(slug):
    office = accounts.office_for(actor(), slug)
    form, change, stale, status = ClosureForm(), None, False, 200
    if form.validate_on_submit():
        try:
            change = schedule.add_closure(
                office, form.start_date.data, form.end_date.data, form.reason.data, now=clock.now(),
                actor=actor(), dry_run=not _saving(), expected=form.fingerprint.data if _saving() else None)
        except InvalidInput as invalid:
            db.session.rollback()
            for name, message in invalid.fields.items():
                getattr(form, name, form.start_date).errors.append(message)
            status = 422
        else:
            if change.applied:
                _saved(change)
                return redirect(url_for("staff.closures", slug=slug), code=303)
            stale = _saving()
            form.fingerprint.data = change.fingerprint
    elif form.is_submitted():
        status = 422
    today = clock.now().astimezone(office.tz).date()
    return _page("staff/closures.html", office, form=form, change=change, stale=stale,
                 closures=rules.upcoming_closures(office, today),
                 holidays=rules.public_holidays(office, today, str(get_locale()))), status


@pages.post("/offices/<slug>/closures/<int(max=2147483647):closure_id>/delete")
def closure_delete(slug, closure_id):
    office = accounts.office_for(actor(), slug)
    closure = schedule.closure_for(actor(), closure_id)
    if closure.office_id != office.id:
        raise NotFound()
    form = ConfirmChangeForm()
    if not form.validate_on_submit():
        return redirect(url_for("staff.closures", slug=slug), code=303)
    saving = _saving()
    change = schedule.delete_closure(closure, now=clock.now(), actor=actor(), dry_run=not saving,
                                     expected=form.fingerprint.data if saving else None)
    if change.applied:
        _saved(change)
        return redirect(url_for("staff.closures", slug=slug), code=303)
    form.fingerprint.data = change.fingerprint
    return _page("staff/closures_delete.html", office, form=form, change=change, closure=closure, stale=saving)


# --- the staff API ---

def _dry_run():
    raw = request.args.get("dry_run", "").strip().lower()
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("", "0", "false", "no"):
        return False
    raise InvalidInput(fields={"dry_run": _l("Must be true or false.")})


def change_json(change, office):
    """The change's counts and ids, and for the people at the desk who is affected how."""
    def when(moment):
        return moment.astimezone(office.tz).isoformat()

    return {
        **change.summary(), "dry_run": not change.applied,
        "details": {
            "slots": [{"start": when(c.starts_at), "end": when(c.ends_at), "change": c.kind,
                       "seats_before": c.seats_before, "seats_after": c.seats_after} for c in change.slots],
            "bookings": [{"id": b.id, "start": when(b.slot.starts_at), "name": b.name, "phone": b.phone,
                          "locale": b.locale, "source": str(b.source), "reachable": bool(b.phone)}
                         for b in change.moved],
            "offers": [{"id": o.id, "start": when(o.slot.starts_at), "kind": str(o.kind), "phone": o.phone,
                        "locale": o.locale} for o in change.withdrawn],
        },
    }


def _answer(change, office, created=200):
    if change.applied:
        commit_and_send()
    body = change_json(change, office)
    if change.closure is not None:
        body["closure"] = rules.closure_json(change.closure)
    return jsonify(body), created if change.applied else 200


@api.get("/offices/<slug>/hours")
def api_hours(slug):
    office = accounts.office_for(actor(), slug)
    return jsonify(hours=[rules.rule_json(rule) for rule in office.hours])


@api.put("/offices/<slug>/hours")
def api_replace_hours(slug):
    office = accounts.office_for(actor(), slug)
    dry_run = _dry_run()
    data = json_object()
    check_types(data, {"hours": (list, True)})
    change = schedule.replace_hours(office, data["hours"], now=clock.now(), actor=actor(), dry_run=dry_run)
    return _answer(change, office)


@api.get("/offices/<slug>/closures")
def api_closures(slug):
    office = accounts.office_for(actor(), slug)
    today = clock.now().astimezone(office.tz).date()
    return jsonify(
        closures=[rules.closure_json(closure) for closure in rules.upcoming_closures(office, today)],
        holidays=[{"date": day.isoformat(), "name": name}
                  for day, name in rules.public_holidays(office, today, str(get_locale()))],
        closed_on_public_holidays=office.closed_on_public_holidays,
    )


@api.post("/offices/<slug>/closures")
def api_add_closure(slug):
    office = accounts.office_for(actor(), slug)
    dry_run = _dry_run()
    data = json_object()
    check_types(data, {"start_date": (str, True), "end_date": (str, False), "reason": (str, False)})
    change = schedule.add_closure(office, data["start_date"], data.get("end_date"), data.get("reason"),
                                  now=clock.now(), actor=actor(), dry_run=dry_run)
    return _answer(change, office, created=201)


@api.delete("/closures/<int(max=2147483647):closure_id>")
def api_delete_closure(closure_id):
    closure = schedule.closure_for(actor(), closure_id)
    office = closure.office
    change = schedule.delete_closure(closure, now=clock.now(), actor=actor(), dry_run=_dry_run())
    return _answer(change, office)
