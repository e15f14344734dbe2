"""What-if: the recorded demand of an office under its hours and under proposed hours, side
by side (a page with the hours as rows to edit, and the staff API)."""

from datetime import date, time

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from ... import clock
from ...services import simulation
from ...services import staff as accounts
from ...services.errors import InvalidInput
from ..forms import Form
from ..inputs import json_object, query_id
from . import charts
from .access import actor
from .blueprints import api, pages
from .figures import number, percent

MAX_RULES = 50
MAX_WEEKS = 52
WEEKDAYS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]


def parse_hours(items) -> tuple[list[dict], dict]:
    """Weekly hours in the shape of ``GET .../hours``, checked; returns them and the problems
    by field (``hours.2.end``)."""
    problems, rules = {}, []
    if not isinstance(items, list):
        return [], {"hours": _l("Must be a list.")}
    if len(items) > MAX_RULES:
        return [], {"hours": _l("At most %(n)d rows.", n=MAX_RULES)}
    for index, item in enumerate(items):
        where = f"hours.{index}"
        if not isinstance(item, dict):
            problems[where] = _l("Must be an object.")
            continue
        rule = {"languages": _languages(item.get("languages"))}
        for name, read in (
            ("weekday", _weekday),
            ("start", _time),
            ("end", _time),
            ("slot_minutes", _whole(5, 480)),
            ("seats", _whole(1, 50)),
            ("valid_from", _day),
            ("valid_until", _day),
        ):
            try:
                rule[name] = read(item.get(name))
            except ValueError as error:
                problems[f"{where}.{name}"] = error.args[0]
        if not any(key.startswith(where + ".") for key in problems):
            if rule["start"] >= rule["end"]:
                problems[f"{where}.end"] = _l("Must be later than the start.")
            elif _minutes(rule["end"]) - _minutes(rule["start"]) < rule["slot_minutes"]:
                problems[f"{where}.slot_minutes"] = _l("Longer than the hours it divides.")
            elif (
                rule["valid_from"]
                and rule["valid_until"]
                and rule["valid_until"] < rule["valid_from"]
            ):
                problems[f"{where}.valid_until"] = _l("Must not be before 'valid from'.")
            else:
                rules.append(rule)
    return rules, problems


def _weekday(value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
        raise ValueError(_l("Use the numbers 0 (Monday) to 6 (Sunday)."))
    return value


def _time(value):
    try:
        return value if isinstance(value, time) else time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(_l("Must be a time like 09:30.")) from None


def _whole(low, high):
    def read(value):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(_l("A whole number from %(low)d to %(high)d.", low=low, high=high))
        return value

    return read


def _day(value):
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(_l("Must be a date like 2026-03-26.")) from None


def _languages(value):
    if isinstance(value, str):
        value = value.split(",")
    return [str(code).strip() for code in value or [] if str(code).strip()]


def _minutes(moment):
    return moment.hour * 60 + moment.minute


@api.post("/offices/<slug>/simulate", endpoint="simulate")
def simulate_api(slug):
    office = accounts.office_for(actor(), slug)
    data = json_object()  # 400 for anything but a JSON object, too deep a one included
    weeks, seed, problems = data.get("weeks", 12), data.get("seed", 1), {}
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 1 <= weeks <= MAX_WEEKS:
        problems["weeks"] = _l("A whole number from %(low)d to %(high)d.", low=1, high=MAX_WEEKS)
    if not isinstance(seed, int) or isinstance(seed, bool):
        problems["seed"] = _l("Must be a whole number.")
    if "one_more_hour" in data and "hours" not in data:
        try:
            rules = simulation.one_more_hour(
                simulation.rules_of(office), _weekday(data["one_more_hour"])
            )
        except ValueError as error:
            problems["one_more_hour"] = error.args[0]
    else:
        rules, found = parse_hours(data.get("hours"))
        problems.update(found)
    if problems:
        raise InvalidInput(fields=problems)
    result = simulation.compare(office, rules, weeks=weeks, seed=seed, now=clock.now())
    result["hours"] = [_rule_json(rule) for rule in rules]
    return jsonify(office=office.slug, **result)


def _rule_json(rule):
    return {
        **rule,
        "start": rule["start"].strftime("%H:%M"),
        "end": rule["end"].strftime("%H:%M"),
        "valid_from": rule["valid_from"].isoformat() if rule.get("valid_from") else None,
        "valid_until": rule["valid_until"].isoformat() if rule.get("valid_until") else None,
    }


class SimulateForm(Form):
    weeks = IntegerField(
        _l("Weeks to simulate"), default=12, validators=[NumberRange(1, MAX_WEEKS)]
    )
    seed = IntegerField(
        _l("Random seed (the same seed gives the same answer)"),
        default=1,
        validators=[Optional(), NumberRange(0, 2**31)],
    )


@pages.route("/offices/<slug>/simulate", methods=["GET", "POST"], endpoint="simulate")
def simulate_page(slug):
    """GET shows today's hours to edit (``?more=<weekday>``: with one more hour that day, and
    its prediction at once); POST predicts the edited hours."""
    office = accounts.office_for(actor(), slug)
    form = SimulateForm()
    current = simulation.rules_of(office)
    rows, problems, result = [_rule_json(rule) for rule in current], {}, None
    if request.method == "POST":
        rows = _rows_from(request.form)
        rules, problems = parse_hours(rows)
        if form.validate() and not problems:
            result = simulation.compare(
                office,
                rules,
                weeks=form.weeks.data,
                seed=1 if form.seed.data is None else form.seed.data,
                now=clock.now(),
            )
    elif (more := query_id("more")) is not None and more <= 6:
        rules = simulation.one_more_hour(current, more)
        rows = [_rule_json(rule) for rule in rules]
        result = simulation.compare(office, rules, weeks=form.weeks.data, seed=1, now=clock.now())
    chart = None
    if result is not None:
        title = _("Predicted waiting days")
        chart = charts.bars(
            "whatif",
            title,
            [_("Median"), _("90th percentile")],
            [
                (
                    _("Today's hours"),
                    [
                        result["current"]["wait_days"]["median"],
                        result["current"]["wait_days"]["p90"],
                    ],
                ),
                (
                    _("Proposed hours"),
                    [
                        result["proposed"]["wait_days"]["median"],
                        result["proposed"]["wait_days"]["p90"],
                    ],
                ),
            ],
            _("days"),
        )
    blank = {
        "weekday": "",
        "start": "",
        "end": "",
        "slot_minutes": 30,
        "seats": 1,
        "valid_from": "",
        "valid_until": "",
        "languages": [],
    }
    return render_template(
        "staff/simulate.html",
        office=office,
        form=form,
        rows=rows + [blank, blank],
        problems=problems,
        result=result,
        chart=chart,
        weekdays=WEEKDAYS,
        number=number,
        percent=percent,
    ), 422 if problems or form.errors else 200


def _rows_from(values):
    """The rows of the hours table as the API's objects; empty rows left out."""
    rows = []
    for index in range(MAX_RULES + 2):
        if f"start-{index}" not in values:
            break
        row = {
            name: values.get(f"{name}-{index}", "").strip()
            for name in (
                "weekday",
                "start",
                "end",
                "slot_minutes",
                "seats",
                "valid_from",
                "valid_until",
                "languages",
            )
        }
        if row["start"] or row["end"] or row["weekday"]:
            rows.append(row)
    return rows
