"""lokal willkommen: appointment booking and waitlist for Dortmund's integration offices."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as configuration
from .config import ROOT
from .logs import register_logging


def create_app(config=None):
    """Build the application: defaults, then the environment, then ``config`` (a dict)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configuration.load(app, config)
    register_logging(app)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: the client's address (for rate limits) and the public
        # scheme and host come from the X-Forwarded-* headers the proxies set.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    register_extensions(app)
    register_templates(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_extensions(app):
    from . import i18n, models  # noqa: F401  (models: the migrations need the tables)
    from .database import register_database
    from .extensions import babel, csrf, db, limiter, migrate
    from .mail import register_mail
    from .sms import register_sms

    register_database(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    register_sms(app)
    register_mail(app)


def register_templates(app):
    from flask_babel import get_locale

    from . import i18n
    from .urls import public_url

    app.jinja_env.globals.update(
        local_date=i18n.local_date, local_time=i18n.local_time, local_when=i18n.local_when,
        local_time_range=i18n.local_time_range, language_choices=i18n.language_choices,
        text_direction=i18n.text_direction, public_url=public_url,
        has_endpoint=lambda endpoint: endpoint in app.view_functions,
    )

    @app.context_processor
    def locale():
        return {"current_locale": str(get_locale())}


def register_blueprints(app):
    from .web import (
        api,
        calendar_feed,
        errors,
        health,
        limits,
        openapi,
        public,
        security,
        sms,
        staff,
        unavailable,
        waitlist,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(waitlist.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(calendar_feed.bp)
    staff.register(app)
    errors.register(app)
    limits.init_app(app)
    unavailable.register(app)
    security.register(app)


def register_cli(app):
    from . import cli

    cli.register(app)
