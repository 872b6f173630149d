"""Fuzz the sandbox against its own /openapi.json with schemathesis (``make fuzz``).

Every generated request carries the demo account's credentials — signed with
OAuth 1.0a on /v2/, HTTP Basic on /v2.1/ — so the fuzzing reaches the
endpoints, not only the 401 in front of them.  Checks: no 5xx, and
status codes, content types, headers and bodies as the document says.
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.auth import AuthBase, HTTPBasicAuth
from requests_oauthlib import OAuth1
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nextcaller_ops.sandbox import Sandbox

_SANDBOX = Sandbox(records=50).start()
schema = schemathesis.openapi.from_url(_SANDBOX.url + "/openapi.json")


class _EachVersionsAuth(AuthBase):
    """OAuth 1.0a for /v2/, HTTP Basic (the same account) for /v2.1/."""

    oauth = OAuth1(_SANDBOX.consumer_key, _SANDBOX.consumer_secret)
    basic = HTTPBasicAuth(_SANDBOX.api_username, _SANDBOX.api_password)

    def __call__(self, request):
        return (self.basic if "/v2.1/" in (request.url or "") else self.oauth)(request)


_SESSION = requests.Session()
_SESSION.auth = _EachVersionsAuth()


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_sandbox_conforms_to_its_openapi_document(case):
    case.call_and_validate(
        session=_SESSION,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
