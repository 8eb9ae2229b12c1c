"""A real MariaDB server for the VOS3000 tests, started once per session (see conftest)."""

from __future__ import annotations

import itertools
import os

import pytest

from vosbench.sources.vos3000.sandbox import LocalMariaDB, ServerUnavailable

_names = itertools.count(1)


@pytest.fixture(scope="session")
def mariadb():
    """A private MariaDB on a free port of 127.0.0.1; skipped if not installed (a failure in CI)."""
    server = LocalMariaDB()
    try:
        server.start()
    except ServerUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB is required in CI: {error}")
        pytest.skip(str(error))
    yield server
    server.stop()


@pytest.fixture
def vos_url(mariadb) -> str:
    """A fresh, empty database named like a VOS3000 one; the URL carries the password."""
    name = f"vos3000_{next(_names)}"
    mariadb.sql(f"CREATE DATABASE {name}")
    return mariadb.url(name)
