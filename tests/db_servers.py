"""Real database servers for the tests: a private MariaDB and PostgreSQL, started once per session.

Each server starts on first use and stops at the end of the session. Where one is not
installed the tests that need it are skipped with the reason; under ``CI=true`` a missing
server is a failure, since CI installs both (``bash .ci/setup --test``).
"""

from __future__ import annotations

import itertools
import os

import pytest

from vosbench.core.sandbox import LocalMariaDB, LocalPostgreSQL, ServerUnavailable

_names = itertools.count(1)


def _started(server):
    try:
        server.start()
    except ServerUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{server.name} is required in CI: {error}")
        pytest.skip(str(error))
    return server


@pytest.fixture(scope="session")
def mariadb():
    """A private MariaDB on a free port of 127.0.0.1; skipped if not installed (a failure in CI)."""
    server = _started(LocalMariaDB())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql():
    """A private PostgreSQL on a free port of 127.0.0.1; skipped if not installed (a failure in CI)."""
    server = _started(LocalPostgreSQL())
    yield server
    server.stop()


@pytest.fixture
def vos_url(mariadb) -> str:
    """A fresh, empty database named like a VOS3000 one; the URL carries the password."""
    return mariadb.create_database(f"vos3000_{next(_names)}")


def fresh_database(server, stem: str = "ledger") -> str:
    """A new empty database on ``server``; the administrator's URL to it."""
    return server.create_database(f"{stem}_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_ledger_url(request, tmp_path) -> str:
    """An empty place for a ledger on each dialect in turn: an SQLite file, then each server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    server = request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb")
    return fresh_database(server)
