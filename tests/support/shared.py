"""Fixtures for the shared backends: the real PostgreSQL and Redis of this machine (or CI's).

``NEXTCALLER_OPS_TEST_DATABASE_URL`` / ``NEXTCALLER_OPS_TEST_REDIS_URL`` name them
(defaults: the local servers).  Each test gets a fresh schema / key prefix and
leaves nothing behind.  Without a server the tests that need it skip with one
reason, except under ``CI=true``, where they fail: CI must not go green without them.

Loaded for the whole suite by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import os
import uuid
from functools import cache
from urllib.parse import quote

import pytest

from .common import PATIENCE

# Read at import: the suite's isolated_env removes NEXTCALLER_* variables from each test.
TEST_DATABASE_URL = os.environ.get("NEXTCALLER_OPS_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
TEST_REDIS_URL = os.environ.get("NEXTCALLER_OPS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"

# Whether a server is there is asked once per run: a refused connection answers at once, so a generous
# timeout costs nothing then, and a server slow to answer on a loaded machine is not taken for absent
# (under CI=true that would fail every test that needs it).
_PROBE_SECONDS = 20


def _missing(what: str, why: str) -> None:
    server = {"database": "PostgreSQL", "redis": "Redis"}[what]
    reason = f"{server} is not reachable ({why}): start it, or set NEXTCALLER_OPS_TEST_{what.upper()}_URL"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@cache
def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(TEST_DATABASE_URL, connect_timeout=_PROBE_SECONDS) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return type(exc).__name__
    return None


@cache
def _redis_problem() -> str | None:
    try:
        import redis

        redis.Redis.from_url(
            TEST_REDIS_URL, socket_timeout=_PROBE_SECONDS, socket_connect_timeout=_PROBE_SECONDS
        ).ping()
    except Exception as exc:
        return type(exc).__name__
    return None


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` (libpq's ``options``)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


class PostgresSchema:
    """A fresh schema in the test database: ``url`` points into it; dropped by :meth:`drop`."""

    def __init__(self) -> None:
        problem = _postgres_problem()
        if problem:
            _missing("database", problem)
        import psycopg

        self.name = f"nco_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')
        self.url = with_schema(TEST_DATABASE_URL, self.name)

    def query(self, sql: str, *args):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, args or None).fetchall()

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


class RedisSpace:
    """A key prefix of its own in the test Redis; :meth:`clean` deletes every key under it."""

    def __init__(self) -> None:
        problem = _redis_problem()
        if problem:
            _missing("redis", problem)
        import redis

        self.url = TEST_REDIS_URL
        self.prefix = f"nco-test-{uuid.uuid4().hex[:12]}"
        self.client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=PATIENCE)

    def names(self) -> list[str]:
        return sorted(k.decode() for k in self.client.scan_iter(match=f"{self.prefix}:*", count=500))

    def clean(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=500))
        if keys:
            self.client.delete(*keys)
        self.client.close()


@pytest.fixture
def pg_schema():
    schema = PostgresSchema()
    yield schema
    schema.drop()


@pytest.fixture
def redis_space():
    space = RedisSpace()
    yield space
    space.clean()
