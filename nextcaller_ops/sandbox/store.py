"""The sandbox's data: consumers and records in SQLite, seeded deterministically.

Seed: the API document's own record (Jerry Seinfeld, 2125558383), a two-person
household on 3125550142 (so "several records" can be shown), and ``records``
synthetic people whose numbers come from :func:`synthetic_phone` — the same
index always gives the same person, so load tests can ask for many distinct
numbers that exist.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ..models import apply_correction

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

_AREAS = (
    212,
    646,
    718,
    347,
    917,
    415,
    510,
    650,
    408,
    310,
    213,
    323,
    818,
    312,
    773,
    617,
    202,
    305,
    404,
    713,
    214,
    512,
    206,
    503,
    303,
    602,
    702,
    215,
    412,
    313,
    612,
    314,
    816,
    504,
    615,
    704,
    919,
    407,
    813,
    801,
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
_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Wei",
    "Nancy",
    "Ahmed",
    "Lisa",
    "Daniel",
    "Priya",
    "Matthew",
    "Sandra",
    "Anthony",
    "Ashley",
    "Mark",
    "Kimberly",
    "José",
    "Emily",
)
_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Chen",
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


def _record_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:30]


def synthetic_record(index: int) -> dict[str, Any]:
    phone = synthetic_phone(index)
    h = int(hashlib.sha256(f"person:{index}".encode()).hexdigest(), 16)

    def pick(options: tuple, shift: int) -> Any:
        return options[(h >> shift) % len(options)]

    first, last = pick(_FIRST, 0), pick(_LAST, 8)
    city, state = _CITIES[int(phone[:3])]
    record: dict[str, Any] = {
        "id": _record_id(f"synthetic:{index}"),
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
            "id": _record_id("household:alex"),
            "first_name": "Alex",
            "last_name": "Rivera",
            "name": "Alex Rivera",
            "email": "alex.rivera@example.com",
        },
        {
            **base,
            "id": _record_id("household:sam"),
            "first_name": "Sam",
            "last_name": "Rivera",
            "name": "Sam Rivera",
            "email": "sam.rivera@example.com",
            "fraud_threat": "high",
        },
    ]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS consumers (key TEXT PRIMARY KEY, secret TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS phones (phone TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (phone, id));
CREATE TABLE IF NOT EXISTS corrections (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
    body TEXT NOT NULL, received REAL NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Thread-safe access to the sandbox database: a connection per thread."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    # -- seeding --------------------------------------------------------------
    def seed(self, records: int, consumer_key: str, consumer_secret: str) -> None:
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO consumers VALUES (?, ?, 'active')", (consumer_key, consumer_secret)
                )
                for key, status in STATUS_CONSUMERS.items():
                    conn.execute(
                        "INSERT OR IGNORE INTO consumers VALUES (?, ?, ?)", (key, DEMO_CONSUMER_SECRET, status)
                    )
                row = conn.execute("SELECT value FROM meta WHERE name='seeded'").fetchone()
                seeded = int(row[0]) if row else -1
                if seeded < 0:
                    for rec in [SEINFELD, *household_records()]:
                        self._insert(conn, rec)
                    seeded = 0
                if records > seeded:
                    # INSERT OR IGNORE: a corrected record keeps its correction.
                    conn.executemany(
                        "INSERT OR IGNORE INTO records VALUES (?, ?)",
                        ((r["id"], json.dumps(r)) for r in (synthetic_record(i) for i in range(seeded, records))),
                    )
                    conn.executemany(
                        "INSERT OR IGNORE INTO phones VALUES (?, ?)",
                        ((synthetic_phone(i), _record_id(f"synthetic:{i}")) for i in range(seeded, records)),
                    )
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('seeded', ?)", (str(records),))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(conn: sqlite3.Connection, rec: dict[str, Any]) -> None:
        conn.execute("INSERT OR IGNORE INTO records VALUES (?, ?)", (rec["id"], json.dumps(rec)))
        for p in rec.get("phone", []):
            conn.execute("INSERT OR IGNORE INTO phones VALUES (?, ?)", (p["number"], rec["id"]))

    def add_consumer(self, key: str, secret: str, status: str = "active") -> None:
        with self._write_lock:
            self._conn().execute("INSERT OR REPLACE INTO consumers VALUES (?, ?, ?)", (key, secret, status))

    def consumer(self, key: str) -> tuple[str, str] | None:
        row = self._conn().execute("SELECT secret, status FROM consumers WHERE key=?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    # -- records --------------------------------------------------------------
    def find_by_phone(self, phone: str) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT r.doc FROM phones p JOIN records r ON r.id = p.id WHERE p.phone=? ORDER BY r.rowid", (phone,)
            )
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def get(self, record_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM records WHERE id=?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def update(
        self, record_id: str, body: dict[str, Any], received: float, idempotency_key: str | None = None
    ) -> dict[str, Any] | None:
        """Apply a correction; one already applied under ``idempotency_key`` is not applied again."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT doc FROM records WHERE id=?", (record_id,)).fetchone()
                seen = (
                    idempotency_key
                    and conn.execute("SELECT 1 FROM corrections WHERE idempotency_key=?", (idempotency_key,)).fetchone()
                )
                if row is None or seen:
                    conn.execute("ROLLBACK")
                    return json.loads(row[0]) if row else None
                updated = apply_correction(json.loads(row[0]), body)
                conn.execute("UPDATE records SET doc=? WHERE id=?", (json.dumps(updated), record_id))
                conn.execute("DELETE FROM phones WHERE id=?", (record_id,))
                for p in updated.get("phone", []):
                    conn.execute("INSERT OR IGNORE INTO phones VALUES (?, ?)", (p["number"], record_id))
                conn.execute(
                    "INSERT INTO corrections (id, body, received, idempotency_key) VALUES (?, ?, ?, ?)",
                    (record_id, json.dumps(body), received, idempotency_key),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return updated

    def corrections(self, record_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, body FROM corrections"
        args: tuple = ()
        if record_id:
            sql += " WHERE id=?"
            args = (record_id,)
        return [{"id": r[0], "body": json.loads(r[1])} for r in self._conn().execute(sql + " ORDER BY seq", args)]

    def count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM records").fetchone()[0]
