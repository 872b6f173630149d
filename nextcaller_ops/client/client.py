"""NextCallerClient: the lookups and corrections, over the :mod:`~nextcaller_ops.client.client.transport`.

>>> from nextcaller_ops.client import NextCallerClient
>>> with NextCallerClient() as nc:                      # doctest: +SKIP
...     result = nc.lookup("(212) 555-8383")
...     result.profiles[0].name
'Jerry Seinfeld'

* The transport signs every attempt anew (OAuth 1.0a, v2) or sends HTTP Basic
  (v2.1), times out every call and retries 429, 5xx and connection failures;
  see :mod:`.transport`.
* On API v2.1 also: :meth:`lookup_email`, :meth:`lookup_name_address`,
  :meth:`fraud_level` and :meth:`get_profile` (:mod:`.client_v21`), with the
  same cache, retries, pacing and audit.  On v2 they refuse before any request.
* A TTL cache with single-flight: concurrent lookups of one number make one
  request; a correction invalidates what it changed; ``refresh=True`` bypasses.
* ``lookup_many`` / ``iter_lookup_many``: concurrent, in input order, one
  request per distinct number, bounded memory for any input size; see :mod:`.batch`.
* ``audit(action, phone, outcome, detail="")`` is called after every lookup, correction and v2.1
  call (:mod:`.auditing`); :attr:`~NextCallerClient.auditor` sets it after construction, and the
  surface says who asked, where (:func:`nextcaller_ops.audit.asking`).

What a batch engine may use (:mod:`.batch_run` uses nothing else, see its
``BatchClient``): :meth:`~NextCallerClient.lookup`,
:meth:`~NextCallerClient.batch_plan` (how wide to fan out; it sizes the
connection pool), :attr:`~NextCallerClient.requests_sent` and
:meth:`~NextCallerClient.pacing_state`; on v2.1 also :attr:`api_version`,
:meth:`lookup_email` and :meth:`lookup_with_fraud`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import requests

from .. import errors, metrics
from ..api.correction_fields import build_correction
from ..api.models import LookupResult, Profile, check_profile_id, parse_records_json
from ..api.phone import PhoneInput, parse
from ..cache.flight import SingleFlight
from ..cache.memory import LookupCache
from ..cache.redis import shared_lookups
from ..config import Settings, load_settings
from ..credentials import Credentials, load_credentials
from ..rate.pacer import PacingState, pacer_for
from ..redact import mask_phone
from . import fanout as batch
from .auditing import AuditHook, Failure, no_audit
from .fanout import BatchItem, BatchPlan
from .transport import Pacer, Transport, auth_for
from .v21 import V21Lookups

__all__ = ["NextCallerClient", "BatchItem"]

log = logging.getLogger("nextcaller_ops.client")


class NextCallerClient(V21Lookups):
    def __init__(
        self,
        credentials: Credentials | None = None,
        settings: Settings | None = None,
        *,
        cache: LookupCache | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        audit: AuditHook | None = None,
        pacer: Pacer | None = None,
    ):
        self.settings = settings or load_settings()
        self.credentials = credentials or load_credentials(self.settings.profile, auth=self.settings.auth)
        # With NEXTCALLER_OPS_REDIS_URL the cache and single-flight are shared by every process.
        self._shared = shared_lookups(self.settings, self.credentials) if cache is None else None
        self.cache = (
            cache
            if cache is not None
            else self._shared.cache
            if self._shared is not None
            else LookupCache(
                ttl=self.settings.cache_ttl,
                miss_ttl=self.settings.miss_ttl,
                path=self.settings.cache_path,
                max_entries=self.settings.cache_max_entries,
            )
        )
        # OAuth 1.0a (v2's scheme) or HTTP Basic (v2.1's), as the credentials are; one request budget per
        # key and API in this process (and across processes with Redis): pacing.py.
        self.pacer = pacer or pacer_for(self.settings, self.credentials)  # .state(): for status and progress
        self.transport = Transport(
            self.settings, auth_for(self.credentials), session=session, sleep=sleep, pacer=self.pacer
        )
        if credentials is None:  # read from the environment or the keyring: 1046/1049 reads them once more
            self.transport.on_refused_key = self.reload_credentials
        self._flights: SingleFlight[tuple[LookupResult, bool]] = SingleFlight()
        # audit(action, phone, outcome, detail="") after every lookup, correction and v2.1 call
        self._audit: AuditHook = audit or no_audit

    # -- the audit hook -----------------------------------------------------------
    @property
    def auditor(self) -> AuditHook:
        """The hook called after every call, ``audit(action, phone, outcome, detail="")``; settable, so a
        surface that opens its audit log after building the client (the bot) wires it in once."""
        return self._audit

    @auditor.setter
    def auditor(self, hook: AuditHook | None) -> None:
        self._audit = hook or no_audit

    # -- credentials ---------------------------------------------------------------
    def reload_credentials(self) -> bool:
        """Read the credentials again (environment, keyring); True when they changed: every request from
        now on uses the new ones (a key rotated under a running bot: bot/rotation.py, the 1046/1049 hook)."""
        try:
            fresh = load_credentials(self.settings.profile, auth=self.settings.auth)
        except errors.CredentialsError:  # gone from where they were: keep what works, the refusal says the rest
            return False
        old = self.credentials
        if (fresh.consumer_key, fresh.consumer_secret, fresh.auth) == (old.consumer_key, old.consumer_secret, old.auth):
            return False
        self.credentials = fresh
        self.transport.auth = auth_for(fresh)
        return True

    # -- the public face a batch engine uses ----------------------------------------
    @property
    def requests_sent(self) -> int:
        """Attempts this client put on the wire so far, retries included (public: a batch's summary counts them)."""
        return self.transport.requests_sent

    def batch_plan(self, concurrency: int | None = None) -> BatchPlan:
        """How wide a batch runs on this client: ``concurrency`` lookups at once (None: the configured number).

        The connection pool is grown to carry that many requests at once (a
        smaller pool would make workers queue for sockets); the pacer, not the
        width, keeps the request rate, so a wide batch on a slow account waits
        rather than being refused.  ``memo_size``: the distinct questions a batch
        remembers (the cache's size), so a repeated line is never asked again.
        """
        width = max(1, int(concurrency or self.settings.concurrency))
        self.transport.ensure_pool(width)
        return BatchPlan(width=width, memo_size=max(1, self.settings.cache_max_entries))

    def pacing_state(self) -> PacingState | None:
        """The request rate kept now and why (the API's limit, NEXTCALLER_OPS_MAX_RPS, a 429's back-off); None: unpaced."""
        return self.pacer.state()

    def __repr__(self) -> str:
        return (
            f"NextCallerClient(base_url={self.settings.base_url!r}, profile={self.settings.profile!r}, "
            f"credentials={self.credentials!r})"
        )

    # -- lifecycle --------------------------------------------------------------
    def close(self) -> None:
        self.transport.close()
        self.cache.close()

    def __enter__(self) -> NextCallerClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- lookups ----------------------------------------------------------------
    def _fetch(self, phone: PhoneInput) -> LookupResult:
        resp = self.transport.request("GET", "records/", params={"phone": phone.number, "format": "json"})
        try:
            doc = self.transport.decode(resp)
        except errors.NotFoundError:
            log.info("lookup %s: no record", mask_phone(phone.number))
            return LookupResult(phone=phone.number, profiles=())
        profiles = tuple(parse_records_json(doc))
        log.info("lookup %s: %d record(s)", mask_phone(phone.number), len(profiles))
        return LookupResult(phone=phone.number, profiles=profiles)

    def lookup(self, phone: str | PhoneInput, *, refresh: bool = False) -> LookupResult:
        """Profiles for ``phone`` (free text); an empty result when the API has none."""
        parsed = phone if isinstance(phone, PhoneInput) else parse(phone)
        try:
            result = self._lookup(parsed, refresh)
        except errors.NextCallerError as exc:
            metrics.lookup(metrics.surface(), "error")
            self._audit("lookup", parsed.number, Failure(exc))
            raise
        metrics.lookup(metrics.surface(), _outcome(len(result.profiles)))
        self._audit("lookup", parsed.number, _outcome(len(result.profiles)), "cached" if result.cached else "")
        return result

    def _lookup(self, parsed: PhoneInput, refresh: bool) -> LookupResult:
        key = parsed.number
        profiles, cached = self._cached(key, lambda: self._fetch(parsed).profiles, refresh)
        return LookupResult(key, profiles, extension=parsed.extension, cached=cached)

    def _cached(
        self, key: str, fetch: Callable[[], tuple[Profile, ...]], refresh: bool
    ) -> tuple[tuple[Profile, ...], bool]:
        """``fetch()``'s profiles for ``key``, from the cache when fresh; one fetch per key at a time.

        Returns the profiles and whether they came from the cache (or from
        another thread's fetch of the same key).  Keys: the 10-digit number;
        ``email:…``, ``name:…`` and ``fraud:…`` for v2.1's other questions.
        """
        if not refresh:
            hit = self.cache.get(key)
            if hit is not None:
                return hit.profiles, True
        (result, fetched), led = self._flights.run(key, lambda: self._fetch_once(key, fetch, refresh))
        if not led:
            return result.profiles, True
        return result.profiles, not fetched

    def _fetch_once(
        self, key: str, fetch: Callable[[], tuple[Profile, ...]], refresh: bool
    ) -> tuple[LookupResult, bool]:
        """Ask the API and cache the answer; with Redis, once across processes.  (result, fetched here)."""
        if self._shared is not None:
            return self._shared.fetch(key, lambda: LookupResult(key, fetch()), refresh=refresh)
        result = LookupResult(key, fetch())
        self.cache.put(result)
        return result, True

    def lookup_raw(self, phone: str | PhoneInput, fmt: str = "json") -> str:
        """The API's own document for ``phone`` as text (``format=json`` or ``xml``), uncached."""
        if fmt not in ("json", "xml"):
            raise errors.UsageError(f"unknown format {fmt!r}", hint="use json or xml")
        parsed = phone if isinstance(phone, PhoneInput) else parse(phone)
        try:
            resp = self.transport.request("GET", "records/", params={"phone": parsed.number, "format": fmt})
            doc = self.transport.decode(resp, fmt)  # raises the right error; validates the document
        except errors.NextCallerError as exc:
            self._audit(
                "lookup",
                parsed.number,
                _outcome(0) if isinstance(exc, errors.NotFoundError) else Failure(exc),
                fmt,
            )
            raise
        records = doc.get("records") if isinstance(doc, dict) else None
        self._audit("lookup", parsed.number, _outcome(len(records or ())), fmt)
        return resp.text

    def update_profile(
        self, profile_id: str, changes: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """POST a correction with only the fields given; returns the body that was sent.

        ``idempotency_key`` (sent as ``Idempotency-Key``) lets a server that
        honours it (the sandbox does) apply a re-delivered correction once.
        The documented API does not promise this; a correction sets absolute
        values, so a repeat there changes nothing.
        """
        pid = check_profile_id(profile_id)
        body = build_correction(changes)
        fields = ", ".join(sorted(_flat_names(body)))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            resp = self.transport.request(
                "POST", f"users/{pid}/", params={"format": "json"}, body=body, headers=headers
            )
            # The document promises {"success": true}; an empty 2xx is taken as success too.
            doc = self.transport.decode(resp) if resp.content.strip() or not resp.ok else {"success": True}
            if not (isinstance(doc, dict) and doc.get("success") in (True, "true")):
                raise errors.BadResponseError("the API did not confirm the correction", status=resp.status_code)
        except errors.NextCallerError as exc:
            self._audit("correction", None, Failure(exc), f"{pid}: {fields}")
            raise
        self._audit("correction", None, "sent", f"{pid}: {fields}")
        dropped = self.cache.invalidate_profile(pid)
        log.info("correction to profile %s…: %s (cache entries dropped: %d)", pid[:6], fields, len(dropped))
        return body

    def check(self) -> dict[str, Any]:
        """A live check that costs no lookup: an authenticated request for an id that cannot exist.

        The API answering anything but an auth or account error (405 "Invalid UID"
        is the expected answer) means the key and secret were accepted.
        """
        started = time.perf_counter()
        try:
            resp = self.transport.request("GET", "users/" + "0" * 30 + "/", params={"format": "json"})
            self.transport.decode(resp)
        except (
            errors.AuthError,
            errors.BillingError,
            errors.ExpiredTrialError,
            errors.ServerError,
            errors.RateLimitError,
        ):
            raise
        except errors.APIError:
            pass  # past authentication: the key and secret are good
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    # -- batches ------------------------------------------------------------------
    def iter_lookup_many(
        self,
        phones: Iterable[str],
        *,
        concurrency: int | None = None,
        refresh: bool = False,
        window: int | None = None,
        fraud: bool = False,
    ) -> Iterator[BatchItem]:
        """Yield one :class:`~nextcaller_ops.client.fanout.BatchItem` per input, in input order, as soon as it is ready.

        At most ``window`` inputs are held at once (default 4 × concurrency), so
        memory stays flat for any number of inputs.  A number that appears
        again in the batch is not fetched again: it shares the first
        occurrence's answer (the last ``cache_max_entries`` distinct numbers are
        remembered even with the cache off; beyond that the cache serves).
        ``refresh`` bypasses the cache once per distinct number.  ``fraud``
        (v2.1) attaches each number's fraud level (``item.result.fraud``).
        """
        if fraud:
            self._require_v21("a fraud check")
        plan = self.batch_plan(concurrency)
        return batch.iter_lookup_many(
            self._lookup_and_fraud_for_batch if fraud else self._lookup_for_batch,
            phones,
            concurrency=plan.width,
            window=window,
            memo_size=plan.memo_size,
            refresh=refresh,
        )

    def lookup_many(
        self, phones: Iterable[str], *, concurrency: int | None = None, refresh: bool = False
    ) -> list[BatchItem]:
        return list(self.iter_lookup_many(phones, concurrency=concurrency, refresh=refresh))

    def _lookup_for_batch(self, parsed: PhoneInput, refresh: bool) -> LookupResult:
        return self.lookup(parsed, refresh=refresh)

    def _lookup_and_fraud_for_batch(self, parsed: PhoneInput, refresh: bool) -> LookupResult:
        return self.lookup_with_fraud(parsed, refresh=refresh)


def _outcome(records: int) -> str:
    return f"found {records}" if records else "no record"


def _flat_names(body: Mapping[str, Any]) -> list[str]:
    return [
        f"{k}.{s}" if isinstance(v, Mapping) else k
        for k, v in body.items()
        for s in (v if isinstance(v, Mapping) else [None])
    ]
