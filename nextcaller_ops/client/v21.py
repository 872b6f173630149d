"""What API v2.1 adds to the client: lookups by email and by name and address, fraud levels, a profile by id.

>>> with NextCallerClient() as nc:            # a profile with api_version = "v2.1"   # doctest: +SKIP
...     nc.lookup_email("demo@nextcaller.com").profiles[0].name
...     nc.lookup_name_address({"first_name": "Jerry", "last_name": "Seinfeld",
...                             "address": "129 West 81st Street", "zip_code": "10024"})
...     nc.fraud_level("2125558383").fraud_risk
...     nc.get_profile("97d949a413f4ea8b85e9586e1f2d9a").age

Each goes through the same transport (retries, pacing), the same cache and
single-flight (keys ``email:…``, ``name:…``, ``fraud:…``) and the same audit as
a phone lookup.  On a v2 profile each raises
:class:`~nextcaller_ops.errors.NeedsNewerAPIError` before any request; input
that breaks the clients' rules is refused before any request too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import errors
from ..api.fraud import FraudLevel
from ..api.models import LookupResult, Profile, check_profile_id, parse_records_json
from ..api.phone import PhoneInput, parse
from ..api.queries import NameAddressQuery, check_email, mask_email, name_address_query
from ..redact import mask_phone
from . import fanout as batch
from .auditing import AuditHook, Failure

if TYPE_CHECKING:
    from ..cache.memory import LookupCache
    from ..config import Settings
    from .fanout import BatchItem, BatchPlan
    from .transport import Transport

__all__ = ["V21Lookups"]

log = logging.getLogger("nextcaller_ops.client")


class V21Lookups:
    """Mixed into :class:`~nextcaller_ops.client.client.NextCallerClient`; uses its transport, cache and audit."""

    settings: Settings
    transport: Transport
    cache: LookupCache
    _audit: AuditHook
    _cached: Callable[..., tuple[tuple[Profile, ...], bool]]
    lookup: Callable[..., LookupResult]
    batch_plan: Callable[..., BatchPlan]

    @property
    def api_version(self) -> str:
        return self.settings.api_version

    @property
    def can_read_profile(self) -> bool:
        """True when the API offers ``GET users/ID/`` (v2.1; the v2 document has no such endpoint)."""
        return self.settings.api_version == "v2.1"

    def _require_v21(self, what: str) -> None:
        if self.settings.api_version != "v2.1":
            raise errors.NeedsNewerAPIError(what)

    def _records(self, params: Mapping[str, str]) -> tuple[Profile, ...]:
        resp = self.transport.request("GET", "records/", params={**params, "format": "json"})
        try:
            doc = self.transport.decode(resp)
        except errors.NotFoundError:
            return ()
        return tuple(parse_records_json(doc))

    def _audited(self, action: str, phone: str | None, detail: str, work: Callable[[], LookupResult]) -> LookupResult:
        try:
            result = work()
        except errors.NextCallerError as exc:
            self._audit(action, phone, Failure(exc), detail)
            raise
        count = len(result.profiles)
        outcome = f"found {count}" if count else "no record"
        self._audit(action, phone, outcome, detail + ("; cached" if result.cached else ""))
        return result

    # -- lookups by email, by name and address ------------------------------------
    def lookup_email(self, email: str, *, refresh: bool = False) -> LookupResult:
        """Profiles for an email address (v2.1); an empty result when the API has none."""
        self._require_v21("a lookup by email")
        address = check_email(email)

        def work() -> LookupResult:
            profiles, cached = self._cached(
                "email:" + address.casefold(), lambda: self._records({"email": address}), refresh
            )
            log.info("lookup by email %s: %d record(s)", mask_email(address), len(profiles))
            return LookupResult("", profiles, cached=cached, query=address)

        return self._audited("lookup_email", None, f"email={address}", work)

    def lookup_name_address(
        self, query: NameAddressQuery | Mapping[str, Any], *, refresh: bool = False
    ) -> LookupResult:
        """Profiles for a name and an address (v2.1): first and last name, street, and ZIP or city + state."""
        self._require_v21("a lookup by name and address")
        checked = query if isinstance(query, NameAddressQuery) else name_address_query(query)

        def work() -> LookupResult:
            profiles, cached = self._cached(checked.cache_key, lambda: self._records(checked.params()), refresh)
            log.info("lookup by name and address: %d record(s)", len(profiles))
            return LookupResult("", profiles, cached=cached, query=checked.describe())

        place = checked.zip_code or f"{checked.city}, {checked.state}"
        return self._audited("lookup_name", None, f"name={checked.first_name} {checked.last_name}; {place}", work)

    # -- fraud level ------------------------------------------------------------------
    def fraud_level(self, phone: str | PhoneInput, *, refresh: bool = False) -> FraudLevel:
        """``{"spoofed", "fraud_risk"}`` for a number (v2.1), cached like a lookup."""
        self._require_v21("a fraud level")
        parsed = phone if isinstance(phone, PhoneInput) else parse(phone)

        def fetch() -> tuple[Profile, ...]:
            resp = self.transport.request("GET", "fraud/", params={"phone": parsed.number, "format": "json"})
            level = FraudLevel.from_api(parsed.number, self.transport.decode(resp))
            # Kept in the lookup cache as a one-record result, so every cache backend serves it.
            return (Profile(source=level.to_api()),)

        try:
            (held,), cached = self._cached("fraud:" + parsed.number, fetch, refresh)
            level = FraudLevel.from_api(parsed.number, held.to_api())
        except errors.NextCallerError as exc:
            self._audit("fraud", parsed.number, Failure(exc))
            raise
        log.info("fraud level %s: %s, spoofed %s", mask_phone(parsed.number), level.fraud_risk, level.spoofed)
        self._audit("fraud", parsed.number, f"risk {level.fraud_risk or 'unknown'}", "cached" if cached else "")
        return FraudLevel(parsed.number, level.spoofed, level.fraud_risk, cached=cached, source=level.source)

    def lookup_with_fraud(self, phone: str | PhoneInput, *, refresh: bool = False) -> LookupResult:
        """A phone lookup with the number's fraud level attached (``result.fraud``; v2.1): two requests, both cached."""
        self._require_v21("a fraud check")
        parsed = phone if isinstance(phone, PhoneInput) else parse(phone)
        result = self.lookup(parsed, refresh=refresh)
        return replace(result, fraud=self.fraud_level(parsed, refresh=refresh))

    # -- batches of v2.1 questions ----------------------------------------------------------
    def iter_lookup_emails(
        self, emails: Iterable[str], *, concurrency: int | None = None, refresh: bool = False, window: int | None = None
    ) -> Iterator[BatchItem]:
        """One :class:`~nextcaller_ops.client.fanout.BatchItem` per line, in order: a batch of email addresses (v2.1).

        As :meth:`iter_lookup_many` for numbers: concurrent, an address asked
        twice (in any case) fetched once, a line that is not an address
        ``invalid`` without a request.
        """
        self._require_v21("a lookup by email")
        plan = self.batch_plan(concurrency)
        return batch.iter_lookup_many(
            lambda address, again: self.lookup_email(address, refresh=again),
            emails,
            concurrency=plan.width,
            window=window,
            memo_size=plan.memo_size,
            refresh=refresh,
            parse_input=check_email,
            key=str.casefold,
        )

    # -- a profile by id ----------------------------------------------------------------
    def get_profile(self, profile_id: str) -> Profile:
        """One profile by its id (``GET users/ID/``; v2.1 — the v2 document has only the POST)."""
        self._require_v21("reading a profile by id")
        pid = check_profile_id(profile_id)
        try:
            resp = self.transport.request("GET", f"users/{pid}/", params={"format": "json"})
            doc = self.transport.decode(resp)
            if isinstance(doc, dict) and "records" in doc:
                records = parse_records_json(doc)
                if not records:
                    raise errors.InvalidProfileIdError("no profile has that id", status=resp.status_code)
                profile = records[0]
            else:
                profile = Profile.from_api(doc)
        except errors.NextCallerError as exc:
            self._audit("profile", None, Failure(exc), pid)
            raise
        self._audit("profile", None, "found 1", pid)
        return profile
