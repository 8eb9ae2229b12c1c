"""A ledger with the test accounts and a team of registered operators, on each dialect (fixture ``team_url``).

On a server every operator is also a database login with the role that matches; a person
then works through their own login (:func:`as_login`), on SQLite through the same file.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from ledger_text import ACCOUNTS, TEAM, write_ledger_files

from vosbench.ledger import database, identity, roles, scopes, setup
from vosbench.sources import csv_import

PASSWORD = "team-secret"


def build(url: str, folder) -> str:
    """A ledger at ``url`` with the test accounts and TEAM, plus two more supervisors; on a server every
    operator is also a login."""
    engine = setup.open_ledger(url, create=True)
    csv_import.import_paths(engine, [write_ledger_files(folder, accounts=ACCOUNTS)], default_tz="UTC")
    on_server = engine.dialect.name != "sqlite"
    if on_server:
        with engine.begin() as connection:
            roles.create_roles(connection)
            scopes.create_scopes(connection)
    team = [line.split(",")[:3] for line in TEAM.strip().splitlines()[1:]]
    for login, name, role in [*(row for row in ((c.strip() for c in r) for r in team)),
                              ("dee", "Dee", "supervisor"), ("eve", "Eve", "supervisor")]:
        identity.register(engine, login, role, name=name, password=PASSWORD if on_server else None)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def team_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = fresh_database(request.getfixturevalue("postgresql" if request.param == "postgresql" else "mariadb"))
    return build(url, tmp_path / "in")


def as_login(url: str, login: str) -> str:
    """The URL a person uses: their own login on a server, the same file on SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.set(username=login, password=PASSWORD).render_as_string(hide_password=False)


def login_engine(url: str, login: str):
    return database.make_engine(as_login(url, login))
