"""A stand-in for Twilio's servers at the very edge: the ``twilio`` library's HTTP client.

Everything above it, the library's request building, authentication and response parsing
included, is the real code. It takes messages (POST Messages.json), lists the ones it took
(GET Messages.json, newest first, as Twilio does) and fails on demand.
"""
import json
import logging
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

ACCOUNT = "AC" + "1" * 32
TOKEN = "secret"
SENDER = "+4923150000000"
MESSAGES_URI = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


@pytest.fixture
def twilio_http(request, clock):
    """A fake Twilio; ``parametrize("twilio_http", [Class], indirect=True)`` picks another.

    Import it with ``config_overrides`` into a test module to run its app against Twilio."""
    return getattr(request, "param", FakeTwilioHttp)(clock=clock)


@pytest.fixture
def config_overrides(twilio_http):
    return twilio_config(twilio_http)


def twilio_config(http_client):
    """Configuration overrides for the Twilio backend talking to ``http_client``."""
    return {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM": SENDER, "TWILIO_HTTP_CLIENT": http_client}


class FakeTwilioHttp(HttpClient):
    """``status``/``error`` answer every POST (e.g. 400 for good); ``fail_next`` the next
    ones only: an HTTP status (5xx: Twilio's trouble, 400: code 21211, 401: a wrong token)
    or an exception to raise (``requests.ConnectionError()``: the network's)."""

    def __init__(self, status=201, error=None, clock=None):
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.requests = []
        self.accepted = []  # the messages Twilio took, as its API shows them
        self.status = status
        self.error = error
        self.failures = []
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()

    lookup_failures = ()

    def fail_next_lookup(self, *statuses):
        self.lookup_failures = list(statuses)

    def fail_next(self, *failures):
        self.failures.extend(failures)

    @property
    def posts(self):
        return [r for r in self.requests if r["method"] == "POST"]

    def request(self, method, uri, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        with self.lock:  # the dispatcher sends a batch over several threads
            return self._request(method, uri, params, data, auth)

    def _request(self, method, uri, params, data, auth):
        self.requests.append({"method": method, "uri": uri, "params": dict(params or {}),
                              "data": dict(data or {}), "auth": auth})
        if method == "GET":
            if self.lookup_failures:
                return self.error_response(self.lookup_failures.pop(0))
            return self.list_page(uri, params or {})
        status = self.status
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, BaseException):
                raise failure
            status = failure
        if status >= 400:
            return self.error_response(status)
        return Response(status, json.dumps(self.accept(data, auth)))

    def accept(self, data, auth):
        created = format_datetime(self.clock().astimezone(UTC))
        message = {
            "sid": f"SM{len(self.accepted) + 1:032d}", "account_sid": auth[0], "to": data["To"],
            "from": data["From"], "body": data["Body"], "status": "queued", "num_segments": "1",
            "direction": "outbound-api", "date_created": created, "date_updated": created,
            "date_sent": None, "api_version": "2010-04-01",
        }
        self.accepted.append(message)
        return message

    def error_response(self, status):
        if status >= 500:
            body = {"code": 20500, "message": "Internal Server Error", "status": status}
        elif status == 401:
            body = {"code": 20003, "message": "Authenticate", "status": status}
        elif self.error == "unsubscribed":
            body = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": status}
        else:
            body = {"code": 21211, "message": self.error or "The 'To' number is not a valid phone number.",
                    "status": status}
        return Response(status, json.dumps(body))

    def list_page(self, uri, params):
        found = [m for m in reversed(self.accepted)
                 if m["to"] == params.get("To", m["to"]) and m["from"] == params.get("From", m["from"])]
        size = int(params.get("PageSize", 50))
        page_uri = f"{urlsplit(uri).path}?PageSize={size}&Page=0"
        return Response(200, json.dumps({
            "messages": found[:size], "first_page_uri": page_uri, "next_page_uri": None,
            "previous_page_uri": None, "page": 0, "page_size": size, "start": 0,
            "end": max(len(found[:size]) - 1, 0), "uri": page_uri,
        }))


class Killed(BaseException):
    """The process dies here (a SIGKILL, an OOM kill): no ``except Exception`` sees it."""


class DiesAfterTwilioTookIt(FakeTwilioHttp):
    """The dispatcher dies after Twilio took the message, before it heard back."""

    dying = True

    def request(self, method, uri, **kwargs):
        response = super().request(method, uri, **kwargs)
        if method == "POST" and self.dying:
            self.dying = False
            raise Killed()
        return response


class DiesBeforeTwilioGotIt(FakeTwilioHttp):
    """The dispatcher dies on its way to Twilio: nothing reaches it."""

    dying = True

    def request(self, method, uri, **kwargs):
        if method == "POST" and self.dying:
            self.dying = False
            raise Killed()
        return super().request(method, uri, **kwargs)


class TimesOutAfterTwilioTookIt(FakeTwilioHttp):
    """Twilio takes the first message; its answer never arrives (a read timeout)."""

    timing_out = True

    def request(self, method, uri, **kwargs):
        response = super().request(method, uri, **kwargs)
        if method == "POST" and self.timing_out:
            self.timing_out = False
            raise requests.ReadTimeout("read timed out")
        return response
