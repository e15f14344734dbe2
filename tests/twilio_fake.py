"""A stand-in for Twilio's servers at the very edge: the ``twilio`` library's HTTP client.

Everything above it, the library's request building, authentication and response parsing
included, is the real code.
"""
import json
import logging

from twilio.http import HttpClient
from twilio.http.response import Response


class FakeTwilioHttp(HttpClient):
    def __init__(self, status=201, error=None):
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.requests = []
        self.status = status
        self.error = error

    def request(self, method, uri, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        if self.status >= 400:
            return Response(self.status, json.dumps({"code": 21211, "message": self.error, "status": self.status}))
        sid = f"SM{len(self.requests):032d}"
        return Response(self.status, json.dumps({
            "sid": sid, "account_sid": auth[0], "to": data["To"], "from": data["From"],
            "body": data["Body"], "status": "queued", "num_segments": "1",
        }))
