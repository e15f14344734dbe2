"""Response headers that protect residents, and the language cookie."""
from flask import request
from flask_babel import get_locale

from ..i18n import LANGUAGE_COOKIE

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def register(app):
    # Behind a proxy that terminates TLS the request may look like http; the public URL says
    # how residents reach the site (browsers ignore the header over plain http).
    https_site = app.config["PUBLIC_BASE_URL"].lower().startswith("https://")

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Manage and offer links carry their token in the path: never leak it to other sites.
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https_site or request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.view_args and "token" in request.view_args:
            headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen and chosen == str(get_locale()):
            response.set_cookie(
                LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                secure=request.scheme == "https",
            )
        return response
