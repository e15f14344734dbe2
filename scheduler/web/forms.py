"""Forms of the resident pages. They carry CSRF and labels; the rules live in the services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TelField, TextAreaField


class BookingForm(FlaskForm):
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


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""
