"""Fuzz the sandbox against its own /openapi.json with schemathesis (``make fuzz``).

Every generated request is signed (OAuth 1.0a, the demo key), so the fuzzing
reaches the endpoints, not only the 401 in front of them.  Checks: no 5xx, and
status codes, content types, headers and bodies as the document says.
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, settings
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

_SESSION = requests.Session()
_SESSION.auth = OAuth1(_SANDBOX.consumer_key, _SANDBOX.consumer_secret)


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
