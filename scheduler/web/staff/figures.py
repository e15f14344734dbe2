"""The evaluation's figures: a page per office, one for all offices the account may see, a
CSV export of either, and the same as JSON in the staff API."""
import csv
import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, format_percent
from flask import current_app, jsonify, make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import clock
from ...models import Office
from ...services import figures as counting
from ...services import staff as accounts
from ...services.errors import InvalidInput
from ...services.tally import Tally, summary
from ..inputs import parse_date
from . import charts
from .access import actor
from .blueprints import api, pages

DEFAULT_WEEKS = 12


def period(args, today: date) -> tuple[date | None, date | None, dict]:
    """``from`` and ``to`` of the query string (local dates, both inclusive); by default the
    last twelve ISO weeks up to today. Returns the problems by field as the third value."""
    problems = {}

    def day(name):
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if (found := parse_date(raw)) is None:
            problems[name] = _l("Must be a date like 2026-03-26.")
        return found

    first, last = day("from"), day("to")
    last = last or (today if "to" not in problems else None)
    if first is None and "from" not in problems and last is not None:
        first = last - timedelta(days=last.weekday(), weeks=DEFAULT_WEEKS - 1)
    if not problems:
        if last < first:
            problems["to"] = _l("Must not be before 'from'.")
        elif (last - first).days >= counting.MAX_PERIOD_DAYS:
            problems["to"] = _l("At most %(n)d days at once.", n=counting.MAX_PERIOD_DAYS)
    return first, last, problems


def _today(office: Office | None) -> date:
    zone = office.tz if office is not None else ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return clock.now().astimezone(zone).date()


def _figures_of(offices, office, per_office):
    first, last, problems = period(request.args, _today(office))
    if problems:
        return first, last, problems, None
    return first, last, problems, counting.report(offices, first, last, per_office=per_office)


@pages.get("/offices/<slug>/figures")
def figures(slug):
    office = accounts.office_for(actor(), slug)
    return _page([office], office)


@pages.get("/figures")
def figures_all():
    return _page(accounts.visible_offices(actor()), None)


def _page(offices, office):
    first, last, problems, found = _figures_of(offices, office, per_office=office is None)
    if found is not None and request.args.get("format") == "csv":
        return csv_response(found, office)
    return render_template(
        "staff/figures.html", office=office, offices=offices, found=found, problems=problems,
        first=request.args.get("from") or (first.isoformat() if first else ""),
        last=request.args.get("to") or (last.isoformat() if last else ""),
        charts=chart_list(found) if found else [], number=number, percent=percent,
        language_name=language_name, source_names=source_names(),
        csv_url=url_for(request.endpoint, format="csv", **request.view_args,
                        **({"from": found["from"], "to": found["to"]} if found else {})),
    ), 422 if problems else 200


def number(value, digits=1):
    """A figure as the page's language writes it; a dash where there is none."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0." + "#" * digits, locale=str(get_locale()))


def percent(value):
    return "–" if value is None else format_percent(value, format="#,##0.# %", locale=str(get_locale()))


def language_name(code):
    try:
        return Locale.parse(code).get_display_name(str(get_locale())) or code
    except (ValueError, UnknownLocaleError):
        return code


def source_names():
    return {"online": _("online"), "walk_in": _("walk-in, booked by staff"),
            "phone": _("by phone, booked by staff"), "waitlist": _("from the waitlist"),
            "move_up": _("moved to an earlier time")}


@api.get("/offices/<slug>/figures", endpoint="figures")
def figures_api(slug):
    office = accounts.office_for(actor(), slug)
    return _answer([office], office)


@api.get("/figures", endpoint="figures_all")
def figures_all_api():
    return _answer(accounts.visible_offices(actor()), None)


def _answer(offices, office):
    _first, _last, problems, found = _figures_of(offices, office, per_office=office is None)
    if problems:
        raise InvalidInput(fields=problems)
    if request.args.get("format") == "csv":
        return csv_response(found, office)
    if office is not None:
        return jsonify(office=office.slug, **found)
    return jsonify(**found)


def chart_list(found: dict) -> list[dict]:
    """The page's charts, each with the table of its numbers."""
    weeks = found["weeks"]
    labels = [week["week"].split("-")[1] for week in weeks]

    def series(*paths):
        return [[_pick(week, path) for week in weeks] for path in paths]

    made = [
        ("demand", charts.bars, _("Requests and appointments per week"), _("people"),
         [_("Requests"), _("Appointments")], series("requests", "bookings")),
        ("waits", charts.lines, _("Waiting days per week"), _("days"),
         [_("Median"), _("90th percentile")], series("wait_days.median", "wait_days.p90")),
        ("refills", charts.bars, _("Freed and refilled seats per week"), _("seats"),
         [_("Freed"), _("Refilled")], series("freed_seats", "refilled_seats")),
        ("attendance", charts.bars, _("Attended and missed appointments per week"), _("appointments"),
         [_("Attended"), _("No-shows")], series("attended", "no_shows")),
    ]
    return [
        {"name": name, "title": title, "unit": unit, "legends": legends,
         "rows": list(zip([week["week"] for week in weeks], *values, strict=True)),
         "svg": draw(name, title, labels, list(zip(legends, values, strict=True)), unit)}
        for name, draw, title, unit, legends, values in made
    ]


def _pick(entry, path):
    for key in path.split("."):
        entry = entry[key]
    return entry


def csv_response(found: dict, office: Office | None):
    """One row per ISO week and one for the whole period ("total"), per office and, on the
    all-offices export, for all of them ("all"); nested figures flattened to
    ``wait_days_median``, ``by_language_ar`` and so on; a header row first."""
    scopes = [(office.slug if office else "all", found)] + [
        (entry["office"], entry) for entry in found.get("offices", [])
    ]
    rows = []
    for name, entry in scopes:
        for week in entry["weeks"]:
            rows.append({"office": name, "week": week["week"], "from": week["from"], "to": week["to"],
                         **_flat(week)})
        rows.append({"office": name, "week": "total", "from": found["from"], "to": found["to"],
                     **_flat(entry)})
    fixed = ["office", "week", "from", "to", *_flat(summary(Tally(), 0.0))]
    counted = sorted({key for row in rows for key in row} - set(fixed))
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=fixed + counted, restval=0, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    response = make_response(output.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"figures-{office.slug if office else 'all'}-{found['from']}-{found['to']}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _flat(entry, prefix=""):
    flat = {}
    for key, value in entry.items():
        if key in ("weeks", "offices", "office", "name", "week", "from", "to"):
            continue
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = "" if value is None else value
    return flat
