"""The two blueprints of the staff workspace; modules of this package add routes to them."""
from flask import Blueprint

from ...extensions import csrf

pages = Blueprint("staff", __name__, url_prefix="/staff")
api = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")
csrf.exempt(api)  # authenticated by a bearer token, never by a cookie
