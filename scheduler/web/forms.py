"""Forms of the resident pages. They carry CSRF and labels; the rules live in the services."""
from babel.dates import get_day_names
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from ..i18n import formatting_locale
from ..services.details import FORBIDDEN_MESSAGE, has_forbidden_characters
from ..services.errors import DomainError, InvalidInput
from .inputs import FIRST_DAY, LAST_DAY


class Form(FlaskForm):
    """Every form of the service, the staff's included: text with control characters (a NUL
    byte, which PostgreSQL refuses) is a mistake shown next to its field, never stored."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for field in self:
            if any(has_forbidden_characters(raw) for raw in field.raw_data or ()):
                field.errors = [*field.errors, FORBIDDEN_MESSAGE]
                valid = False
        return valid


class BookingForm(Form):
    name = StringField(_l("Your name"), render_kw={"autocomplete": "name", "maxlength": 100})
    phone = TelField(
        _l("Mobile number"),
        description=_l("We send the confirmation by SMS. German numbers without +49 are fine."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"},
    )
    email = EmailField(
        _l("E-mail (optional)"), render_kw={"autocomplete": "email", "dir": "ltr"}
    )
    topic = TextAreaField(
        _l("What is it about? (optional)"), render_kw={"rows": 3, "maxlength": 500}
    )
    notify_earlier = BooleanField(_l("Tell me by SMS if an earlier time becomes free"))


def submit(form, action):
    """Run ``action`` (one service call) for a valid submitted form: returns (result, error).

    Field problems the service finds go next to their fields (or above the form when the
    form has no such field); other refusals come back as ``error``; either way the
    transaction is rolled back. 403 and 404 are not a matter of the input: they go on to the
    error handler.
    """
    if not form.validate_on_submit():
        return None, None
    try:
        return action(), None
    except InvalidInput as invalid:
        db.session.rollback()
        for name, message in invalid.fields.items():
            if name in form:
                form[name].errors.append(message)
            else:
                form.form_errors.append(message)
        return None, (form.form_errors[0] if form.form_errors else None)
    except DomainError as refused:
        if refused.status in (403, 404):
            raise
        db.session.rollback()
        return None, refused.message


def status_for(form, error):
    return 422 if form.errors else 409 if error else 200


class ConfirmForm(Form):
    """A form with nothing but its CSRF token, for buttons that change something."""


class WaitlistForm(Form):
    name = BookingForm.name
    phone = TelField(
        _l("Mobile number"),
        description=_l("We send the offer of a free time by SMS. German numbers without +49 are fine."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"},
    )
    weekdays = SelectMultipleField(
        _l("Which days suit you? (none ticked: any day)"), coerce=int, choices=[],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    earliest = TimeField(_l("Not before (optional)"), validators=[Optional()])
    latest = TimeField(_l("Finished by (optional)"), validators=[Optional()])
    before = DateField(_l("Last day that suits you (optional)"), validators=[Optional()])
    topic = BookingForm.topic

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Babel names the weekdays in the page's language; 0 is Monday, as in the API.
        self.weekdays.choices = [
            SelectChoice(day, name)
            for day, name in sorted(get_day_names("wide", locale=formatting_locale()).items())
        ]

    def validate_before(self, field):
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Must be a date like 2026-03-26."))
