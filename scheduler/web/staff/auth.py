"""Logging in and out, and the list of offices an account works for."""
from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from ... import clock
from ...extensions import db, limiter
from ...services import staff as accounts
from ..forms import ConfirmForm, Form
from .access import actor
from .blueprints import api, pages


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@pages.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303)
def login():
    """Only failed attempts count against the address's limit (``deduct_when``)."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        account = accounts.authenticate(form.email.data, form.password.data)
        if account is not None:
            db.session.commit()  # a rehashed password
            login_user(account)
            session.permanent = True  # ends after STAFF_SESSION_MINUTES without a request
            return redirect(_safe_next(request.args.get("next")), code=303)
        error = _l("The e-mail address or the password is wrong.")
    return render_template("staff/login.html", form=form, error=error), 401 if error else 200


def _safe_next(target):
    """Back to the staff page the login interrupted; never to another site."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and parts.path.startswith("/staff/") \
            and "\\" not in target:
        return target
    return url_for("staff.index")


@pages.post("/logout")
def logout():
    logout_user()
    flash(_l("You are logged out."))
    return redirect(url_for("staff.login"), code=303)


@pages.get("/")
def index():
    return render_template("staff/index.html", offices=accounts.visible_offices(actor()),
                           form=ConfirmForm(), now=clock.now())


@api.get("/offices")
def offices():
    return jsonify(offices=[office_json(office) for office in accounts.visible_offices(actor())])


def office_json(office):
    return {
        "slug": office.slug, "name": office.name, "address": office.address,
        "languages": office.language_list, "timezone": office.timezone, "active": office.active,
        "note": office.note,
    }
