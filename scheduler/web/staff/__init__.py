"""The staff workspace: pages under /staff/ (session login) and the staff JSON API under
/api/v1/staff/ (bearer tokens). Both call the same services, so they never disagree.

Each module below adds its routes to the two blueprints of ``blueprints``.
"""
from . import access, admin, agenda, auth, desk, figures, hours, records, simulation  # noqa: F401  (importing registers routes)
from .blueprints import api, pages


def register(app):
    access.register(app)
    app.register_blueprint(pages)
    app.register_blueprint(api)
