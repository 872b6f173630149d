"""The sandbox's seed: demo consumers, the document's record, a household, synthetic people.

Seed: the API document's own record (Jerry Seinfeld, 2125558383), a two-person
household on 3125550142 (so "several records" can be shown), and ``records``
synthetic people whose numbers come from :func:`synthetic_phone` — the same
index always gives the same person, so load tests can ask for many distinct
numbers that exist.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "STATUS_CONSUMERS",
    "SEINFELD",
    "HOUSEHOLD_PHONE",
    "synthetic_phone",
    "synthetic_record",
    "household_records",
    "record_id",
]

DEMO_CONSUMER_KEY = "EG2D22B98D2232253SE3"
DEMO_CONSUMER_SECRET = "sandbox-demo-secret-not-for-production"

# Extra consumers that always answer with one documented error, so every auth
# and account code can be seen end to end.  They share the demo secret.
STATUS_CONSUMERS = {
    "INACTIVEKEY000000001": "inactive",  # 1047
    "EXPIREDKEY0000000001": "expired",  # 1049
    "BILLINGFAILKEY000001": "billing_failed",  # 8643
    "EXPIREDTRIALKEY00001": "trial_expired",  # 8644
}

SEINFELD: dict[str, Any] = {
    "id": "97d949a413f4ea8b85e9586e1f2d9a",
    "first_name": "Jerry",
    "last_name": "Seinfeld",
    "name": "Jerry Seinfeld",
    "language": "English",
    "fraud_threat": "low",
    "email": "demo@nextcaller.com",
    "member": "true",
    "billing_info_on_file": "true",
    "phone": [{"number": "2125558383"}],
    "carrier": "Verizon Wireless",
    "address": [
        {
            "line1": "129 West 81st Street",
            "line2": "Apt 5a",
            "city": "New York",
            "state": "NY",
            "zip_code": "10024",
            "extended_zip": "",
            "country": "USA",
        }
    ],
    "department": "not specified",
}

HOUSEHOLD_PHONE = "3125550142"

_AREAS = tuple(
    int(a)
    for a in "212 646 718 347 917 415 510 650 408 310 213 323 818 312 773 617 202 305 404 713"
    " 214 512 206 503 303 602 702 215 412 313 612 314 816 504 615 704 919 407 813 801".split()
)
_EXCHANGES = tuple(e for e in range(200, 1000) if e % 100 != 11 and e != 555)
_CITIES = {
    212: ("New York", "NY"),
    646: ("New York", "NY"),
    718: ("Brooklyn", "NY"),
    347: ("Queens", "NY"),
    917: ("New York", "NY"),
    415: ("San Francisco", "CA"),
    510: ("Oakland", "CA"),
    650: ("Palo Alto", "CA"),
    408: ("San Jose", "CA"),
    310: ("Santa Monica", "CA"),
    213: ("Los Angeles", "CA"),
    323: ("Los Angeles", "CA"),
    818: ("Burbank", "CA"),
    312: ("Chicago", "IL"),
    773: ("Chicago", "IL"),
    617: ("Boston", "MA"),
    202: ("Washington", "DC"),
    305: ("Miami", "FL"),
    404: ("Atlanta", "GA"),
    713: ("Houston", "TX"),
    214: ("Dallas", "TX"),
    512: ("Austin", "TX"),
    206: ("Seattle", "WA"),
    503: ("Portland", "OR"),
    303: ("Denver", "CO"),
    602: ("Phoenix", "AZ"),
    702: ("Las Vegas", "NV"),
    215: ("Philadelphia", "PA"),
    412: ("Pittsburgh", "PA"),
    313: ("Detroit", "MI"),
    612: ("Minneapolis", "MN"),
    314: ("St. Louis", "MO"),
    816: ("Kansas City", "MO"),
    504: ("New Orleans", "LA"),
    615: ("Nashville", "TN"),
    704: ("Charlotte", "NC"),
    919: ("Raleigh", "NC"),
    407: ("Orlando", "FL"),
    813: ("Tampa", "FL"),
    801: ("Salt Lake City", "UT"),
}
_FIRST = tuple(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Carlos Karen Wei Nancy Ahmed Lisa Daniel Priya Matthew Sandra "
    "Anthony Ashley Mark Kimberly José Emily ".split()
)
_LAST = tuple(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Chen ".split()
)
_STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Ave",
    "Elm St",
    "Washington Blvd",
    "Lake Shore Dr",
    "Sunset Blvd",
    "Broadway",
    "Pine St",
    "Hillside Rd",
    "Market St",
)
_CARRIERS = (
    "Verizon Wireless",
    "AT&T Mobility",
    "T-Mobile USA",
    "Sprint",
    "Comcast",
    "VERIZON NEW YORK, INC.",
    "US Cellular",
    "Google Voice",
)
_LANGUAGES = ("English",) * 7 + ("Spanish", "Chinese", "French")
_THREATS = ("low",) * 8 + ("medium", "high")
_DEPARTMENTS = ("not specified",) * 4 + ("sales", "support", "billing")


def synthetic_phone(index: int) -> str:
    """The ``index``-th synthetic number: distinct for every index, always valid."""
    area = _AREAS[index % len(_AREAS)]
    rest = index // len(_AREAS)
    exchange = _EXCHANGES[rest % len(_EXCHANGES)]
    line = (rest // len(_EXCHANGES)) % 10000
    return f"{area}{exchange}{line:04d}"


def record_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:30]


def synthetic_record(index: int) -> dict[str, Any]:
    phone = synthetic_phone(index)
    h = int(hashlib.sha256(f"person:{index}".encode()).hexdigest(), 16)

    def pick(options: tuple, shift: int) -> Any:
        return options[(h >> shift) % len(options)]

    first, last = pick(_FIRST, 0), pick(_LAST, 8)
    city, state = _CITIES[int(phone[:3])]
    record: dict[str, Any] = {
        "id": record_id(f"synthetic:{index}"),
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "language": pick(_LANGUAGES, 16),
        "fraud_threat": pick(_THREATS, 20),
        "email": f"{first.lower()}.{last.lower()}{index}@example.com".replace("é", "e"),
        "member": "true" if (h >> 24) % 5 == 0 else "false",
        "billing_info_on_file": "true" if (h >> 28) % 3 == 0 else "false",
        "phone": [{"number": phone}],
        "carrier": pick(_CARRIERS, 32),
        "address": [
            {
                "line1": f"{(h >> 40) % 9000 + 100} {pick(_STREETS, 52)}",
                "line2": "",
                "city": city,
                "state": state,
                "zip_code": f"{(h >> 60) % 90000 + 10000:05d}",
                "extended_zip": "",
                "country": "USA",
            }
        ],
        "department": pick(_DEPARTMENTS, 80),
    }
    return record


def household_records() -> list[dict[str, Any]]:
    base = {
        "language": "English",
        "fraud_threat": "medium",
        "member": "false",
        "billing_info_on_file": "false",
        "carrier": "AT&T Mobility",
        "department": "support",
        "phone": [{"number": HOUSEHOLD_PHONE}],
        "address": [
            {
                "line1": "233 S Wacker Dr",
                "line2": "Fl 12",
                "city": "Chicago",
                "state": "IL",
                "zip_code": "60606",
                "extended_zip": "",
                "country": "USA",
            }
        ],
    }
    return [
        {
            **base,
            "id": record_id("household:alex"),
            "first_name": "Alex",
            "last_name": "Rivera",
            "name": "Alex Rivera",
            "email": "alex.rivera@example.com",
        },
        {
            **base,
            "id": record_id("household:sam"),
            "first_name": "Sam",
            "last_name": "Rivera",
            "name": "Sam Rivera",
            "email": "sam.rivera@example.com",
            "fraud_threat": "high",
        },
    ]
