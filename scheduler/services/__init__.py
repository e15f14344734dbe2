"""The rules of the service: plain functions taking explicit ``now``; they never commit."""
# Offers register what must happen before their SMS goes out (outbox.before_send): loaded
# with the package, so that no dispatcher ever claims an offer without it.
from . import offers  # noqa: F401
