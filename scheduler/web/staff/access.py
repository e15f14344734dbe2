"""Who is asking: a logged-in session on the pages, a bearer token on the API.

Every staff route is closed by default: the pages send anonymous visitors to the login form,
the API answers 401 without a valid token. Which office an account may see is the service's
rule (``services.staff.office_for``); views call it.
"""
from flask import g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import login
from ...services import staff as accounts
from ..errors import error_response
from .blueprints import api, pages

OPEN_PAGES = {"staff.login"}


def register(app):
    login.init_app(app)
    login.login_view = "staff.login"
    login.user_loader(accounts.account_for_session)

    @login.unauthorized_handler
    def to_login():
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")), code=303)


def actor():
    """The staff account behind this request."""
    return g.get("staff_account") or current_user._get_current_object()


@pages.before_request
def require_login():
    if request.endpoint in OPEN_PAGES:
        return None
    if not current_user.is_authenticated:
        return login.unauthorized()
    session.permanent = True  # the idle timeout (STAFF_SESSION_MINUTES) restarts with each request
    return None


@api.before_request
def require_token():
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    account = accounts.account_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if account is None:
        response, status = error_response(401, _("A valid API token is required."), "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="lokal willkommen staff"'
        return response, status
    g.staff_account = account
    return None


@pages.after_request
@api.after_request
def no_store(response):
    """Agendas and waitlists carry residents' names and numbers: never cache them."""
    response.headers["Cache-Control"] = "no-store"
    return response
