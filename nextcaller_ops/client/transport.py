"""The HTTP layer under the client: one session, signed attempts, retries, answers decoded.

>>> transport = Transport(settings, oauth1_auth(credentials))     # doctest: +SKIP
>>> answer = transport.request("GET", "records/", params={"phone": "2125558383", "format": "json"})  # doctest: +SKIP
>>> transport.decode(answer)  # the document, or raises the right errors.* exception  # doctest: +SKIP

* One ``requests.Session`` with an ``HTTPAdapter`` pool as large as the
  concurrency (urllib3 retries off: they would replay a signed request).
* A timeout on every call; retries for 429 (``Retry-After`` /
  ``X-Rate-Limit-Reset`` honoured, capped), 5xx and connection failures,
  with back-off and jitter.
* The authentication is an object handed in (``requests.auth.AuthBase``) and
  applied by requests on every attempt: OAuth 1.0a (v2) signs each one anew (the
  API refuses a replayed nonce); HTTP Basic (v2.1) sends the same header every
  time, so a retry needs no re-signing.  :func:`~nextcaller_ops.client.auth.auth_for` picks one.
* ``Nc-Account-Id`` names a platform account's end customer on every call when
  the profile has an ``account_id``.
* A :class:`Pacer` is asked before every attempt and told of every answer
  (:mod:`.pacing`: the account's rate, learned or set).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from .. import errors, metrics
from ..api.error_map import error_from_response
from ..api.models import parse_xml_document
from ..config import Settings, check_secure_base_url
from .auth import BasicAuth, auth_for, basic_auth, oauth1_auth  # the schemes; re-exported (callers found them here)

if TYPE_CHECKING:
    from ..rate.pacer import PacingState

__all__ = ["Transport", "Pacer", "NO_PACING", "oauth1_auth", "basic_auth", "auth_for", "USER_AGENT", "ACCOUNT_HEADER"]

log = logging.getLogger("nextcaller_ops.transport")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _refused_key(resp: requests.Response) -> bool:
    """The answer refuses the consumer key as unknown (1046) or expired (1049)."""
    try:
        doc = resp.json()
    except ValueError:
        return False
    error = error_from_response(resp.status_code, doc)
    return isinstance(error, (errors.InvalidConsumerKeyError, errors.ExpiredConsumerKeyError))


USER_AGENT = "nextcaller-ops/0.1 (+python-requests)"
ACCOUNT_HEADER = "Nc-Account-Id"  # Next Caller's platform accounts: the end customer a call is for


class Pacer(Protocol):
    """Keeps the requests within the account's rate (issue #16: a token bucket, shared in Redis)."""

    def wait(self) -> float | None:
        """Reserve the next attempt's slot: the seconds to sleep before sending it (None or 0: at once)."""

    def observe(self, response: requests.Response) -> None:
        """Learn from an answer (its status, ``X-Rate-Limit-*`` headers)."""

    def state(self) -> PacingState | None:
        """The rate in force and the limit learned, for ``status`` and progress lines (None: not paced)."""


class _NoPacing:
    def wait(self) -> float | None:
        return None

    def observe(self, response: requests.Response) -> None:
        pass

    def state(self) -> PacingState | None:
        return None


NO_PACING: Pacer = _NoPacing()


class Transport:
    """Sends requests to ``settings.api_root`` and turns answers into documents or errors."""

    def __init__(
        self,
        settings: Settings,
        auth: AuthBase,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer = NO_PACING,
    ):
        check_secure_base_url(settings.base_url)  # settings built by hand too: no credentials in clear
        self.settings = settings
        self.auth = auth
        self.pacer = pacer
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        if settings.account_id:
            self._session.headers[ACCOUNT_HEADER] = settings.account_id
        self._pool_size = 0
        self._pool_lock = threading.Lock()
        self.ensure_pool(settings.concurrency)
        self.requests_sent = 0  # attempts that reached the wire, retries included
        self._count_lock = threading.Lock()
        # Called once when the API refuses the key as unknown (1046) or expired (1049): True when it put
        # new credentials in ``self.auth`` (a rotated key), and the request is sent once more with them.
        self.on_refused_key: Callable[[], bool] | None = None

    def __repr__(self) -> str:
        # The auth object holds the secret: only its kind is shown.
        return f"Transport(api_root={self.settings.api_root!r}, auth={type(self.auth).__name__})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def ensure_pool(self, size: int) -> None:
        """At least ``size`` pooled connections per host (never fewer than 4)."""
        # One connection per worker: a smaller pool makes threads queue for sockets
        # and urllib3 discards (and re-opens) the surplus connections.
        size = max(4, int(size))
        with self._pool_lock:
            if size <= self._pool_size:
                return
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0, pool_block=False)
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
            self._pool_size = size

    def _url(self, path: str) -> str:
        return f"{self.settings.api_root}/{path.lstrip('/')}"

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.max_retry_wait, 0.25 * (2**attempt)) * (0.5 + random.random() / 2)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """The API's answer to ``method path``, after retries; transport failures raise.

        A key refused as unknown or expired (1046, 1049) is re-read once (:attr:`on_refused_key`):
        a key rotated while the process runs costs one refused request, not an outage.
        """
        resp = self._request(method, path, params=params, body=body, headers=headers)
        refused = self.on_refused_key is not None and resp.status_code in (401, 403) and _refused_key(resp)
        if refused and self.on_refused_key is not None and self.on_refused_key():
            resp.close()
            return self._request(method, path, params=params, body=body, headers=headers)
        return resp

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        base_url = self.settings.base_url
        url = self._url(path)
        timeout = (min(5.0, self.settings.timeout), self.settings.timeout)
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            delay = self.pacer.wait()  # the transport's own sleep: tests pass a fake one
            if delay:
                self._sleep(delay)
            try:
                with self._count_lock:
                    self.requests_sent += 1
                started = time.perf_counter()
                # self.auth signs inside session.request: a new nonce and timestamp every attempt.
                resp = self._session.request(
                    method, url, params=params, json=body, auth=self.auth, headers=headers, timeout=timeout
                )
            except requests.exceptions.ConnectTimeout:
                metrics.API_RESPONSES.labels(status="timeout").inc()
                failure: errors.NextCallerError = errors.APITimeoutError(
                    f"no connection to {base_url} within {timeout[0]:.0f} s"
                )
            except requests.exceptions.ReadTimeout:
                metrics.API_RESPONSES.labels(status="timeout").inc()
                failure = errors.APITimeoutError(f"{base_url} did not answer within {timeout[1]:.0f} s")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                failure = errors.APIUnreachableError(
                    f"the connection to {base_url} dropped in the middle of the answer"
                )
                metrics.API_RESPONSES.labels(status="unreachable").inc()
            except requests.exceptions.ConnectionError as exc:
                failure = errors.APIUnreachableError(f"cannot reach {base_url} ({_reason(exc)})")
                metrics.API_RESPONSES.labels(status="unreachable").inc()
            except requests.exceptions.RequestException as exc:
                failure = errors.APIUnreachableError(f"request to {base_url} failed ({type(exc).__name__})")
                metrics.API_RESPONSES.labels(status="unreachable").inc()
            else:
                # Labels: the method and the status only (the path and query hold the number asked for).
                metrics.API_SECONDS.labels(method=method).observe(time.perf_counter() - started)
                metrics.API_RESPONSES.labels(status=str(resp.status_code)).inc()
                self.pacer.observe(resp)
                if resp.status_code not in _RETRY_STATUSES or last:
                    return resp
                wait = _retry_after(resp) if resp.status_code == 429 else None
                wait = self._backoff(attempt) if wait is None else min(wait, self.settings.max_retry_wait)
                log.info("API answered %s; retry %d/%d in %.2f s", resp.status_code, attempt + 1, attempts - 1, wait)
                resp.close()
                self._sleep(wait)
                continue
            if last:
                raise failure
            wait = self._backoff(attempt)
            log.info("%s; retry %d/%d in %.2f s", failure.message, attempt + 1, attempts - 1, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def decode(self, resp: requests.Response, fmt: str = "json") -> Any:
        """The body as a document, or raise the right error for an error answer."""
        ctype = resp.headers.get("Content-Type", "")
        doc: Any = None
        try:
            if fmt == "xml" and "xml" in ctype:
                doc = parse_xml_document(resp.content)
            elif "json" in ctype or (fmt == "json" and resp.content[:1] in (b"{", b"[")):
                doc = resp.json()
        except errors.BadResponseError as exc:
            if resp.ok:
                exc.body = resp.text  # lets `--format xml` still show it
                raise
        except ValueError:
            if resp.ok:
                raise errors.BadResponseError(
                    f"the API's answer is not valid JSON (HTTP {resp.status_code}, {len(resp.content)} bytes)",
                    status=resp.status_code,
                ) from None
        if resp.ok and doc is not None and not (isinstance(doc, dict) and "error" in doc):
            return doc
        if resp.ok:
            what = ctype.split(";")[0] or "no content type"
            raise errors.BadResponseError(
                f"the API answered HTTP {resp.status_code} with {what}, not {fmt.upper()}", status=resp.status_code
            )
        retry_after = _retry_after(resp) if resp.status_code == 429 else None
        error = error_from_response(resp.status_code, doc, retry_after=retry_after)
        if (
            isinstance(self.auth, BasicAuth)
            and isinstance(error, errors.AuthError)
            and error.action == errors.Action.LOGIN
        ):
            # Basic auth has no consumer key or signature to blame: a refusal means the username or password.
            error = errors.InvalidCredentialsError(error.message, status=error.status, code=error.code)
        # A 404 is "no record" only when the API says so: an HTML 404 means a wrong base URL,
        # and must not turn every lookup into a silent miss.
        if doc is None and not isinstance(error, (errors.ServerError, errors.RateLimitError, errors.AuthError)):
            raise errors.BadResponseError(
                f"the API answered HTTP {resp.status_code} with {ctype.split(';')[0] or 'no content type'}"
                + (f" (is {self.settings.base_url} the API's root?)" if resp.status_code == 404 else ""),
                status=resp.status_code,
            )
        raise error


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds the API asks us to wait, from ``Retry-After`` or ``X-Rate-Limit-Reset``."""
    value = resp.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    reset = resp.headers.get("X-Rate-Limit-Reset")
    if reset:
        try:
            number = float(reset)
        except ValueError:
            return None
        # An epoch timestamp or a number of seconds: both are seen in the wild.
        return max(0.0, number - time.time()) if number > 1e9 else max(0.0, number)
    return None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Connection reset",
        "Remote end closed",
        "timed out",
        "IncompleteRead",
        "Connection aborted",
        "Failed to resolve",
    ):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__
