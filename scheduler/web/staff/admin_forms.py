"""Forms of the administrators' pages (accounts, offices, data requests, the audit log).

They carry labels and CSRF; what is allowed is decided by the services.
"""
from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form


def checkboxes(label, **kwargs):
    return SelectMultipleField(label, choices=[], widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput(), validators=[Optional()], **kwargs)


class AccountForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()], render_kw={"autocomplete": "off"})
    name = StringField(_l("Name (optional)"), render_kw={"maxlength": 100})
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired()],
        description=_l("At least 12 characters. Tell it to the person in person or by phone, not by e-mail."),
        render_kw={"autocomplete": "new-password"},
    )
    offices = checkboxes(_l("Offices"))
    admin = BooleanField(_l("Administrator: sees and manages every office, all accounts and data requests"))

    def __init__(self, offices, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offices.choices = [(office.slug, office.name) for office in offices]


class AccountEditForm(Form):
    name = StringField(_l("Name (optional)"), render_kw={"maxlength": 100})
    offices = checkboxes(_l("Offices"))
    admin = AccountForm.admin
    active = BooleanField(_l("Active: may log in and use API tokens"))

    def __init__(self, offices, may_change_rights, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offices.choices = [(office.slug, office.name) for office in offices]
        if not may_change_rights:  # one's own account: nobody locks themselves out
            del self.admin
            del self.active


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=[DataRequired()],
        description=_l("At least 12 characters. The account's sessions end at once."),
        render_kw={"autocomplete": "new-password"},
    )


class NoteForm(Form):
    note = TextAreaField(
        _l("What to bring"), render_kw={"rows": 4, "maxlength": 2000},
        description=_l("Shown to residents with their appointment, e.g. \"Please bring your passport and "
                       "any letters from the authorities.\""),
    )


class OfficeForm(NoteForm):
    name = StringField(_l("Name"), validators=[DataRequired()], render_kw={"maxlength": 200})
    address = StringField(_l("Address"), render_kw={"maxlength": 300})
    languages = checkboxes(_l("Languages the office's staff speak"))
    active = BooleanField(_l("Active: residents can book and join the waitlist"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = get_locale()
        self.languages.choices = [
            (code, Locale.parse(code).get_display_name(locale)) for code in current_app.config["LANGUAGES"]
        ]


class NewOfficeForm(OfficeForm):
    slug = StringField(
        _l("Short name in links"), validators=[DataRequired()], render_kw={"maxlength": 64, "dir": "ltr"},
        description=_l("Lowercase letters, digits and hyphens, e.g. \"lanstrop\". It appears in the "
                       "residents' links and cannot be changed later."),
    )


class LookupForm(Form):
    phone = TelField(_l("Phone number"), validators=[DataRequired()],
                     description=_l("German numbers may be given without +49."),
                     render_kw={"autocomplete": "off", "inputmode": "tel", "dir": "ltr"})


class EraseForm(Form):
    phone = HiddenField()
    confirm = BooleanField(_l("Yes, erase everything stored about this number"))


class AuditFilterForm(Form):
    """A GET form: it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    office = SelectField(_l("Office"), validators=[Optional()])
    staff = SelectField(_l("Account"), validators=[Optional()])
    action = StringField(_l("Action starts with"), validators=[Optional()],
                         render_kw={"list": "audit-actions", "dir": "ltr"})
    # Named as the API's parameters, so that a page's address and an API call read alike.
    since = DateField(_l("From"), validators=[Optional()], name="from")
    until = DateField(_l("Until"), validators=[Optional()], name="to")
    before_id = IntegerField(validators=[Optional()])

    def __init__(self, offices, accounts, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.office.choices = [("", _l("All offices"))] + [(office.slug, office.name) for office in offices]
        self.staff.choices = [("", _l("All accounts"))] + [(account.email, account.email) for account in accounts]
