"""Links to the public site from places without a request: SMS, calendar files, jobs."""
from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint, **values):
    """An absolute URL on ``PUBLIC_BASE_URL``, also outside a request (e.g. in the scheduler)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
