"""What-if: the recorded demand of an office under its hours and under proposed hours, side
by side (a page with the hours as rows to edit, and the staff API)."""


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


def _weekday(value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
        raise ValueError(_l("Use the numbers 0 (Monday) to 6 (Sunday)."))
    return value


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
        try:
            rules = simulation.proposed_hours(data.get("hours"))
        except InvalidInput as error:
            problems.update(error.fields)
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
        try:
            rules = simulation.proposed_hours(rows)
        except InvalidInput as error:
            problems = error.fields
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
        row["languages"] = [code.strip() for code in row["languages"].split(",") if code.strip()]
        if row["start"] or row["end"] or row["weekday"]:
            rows.append(row)
    return rows
