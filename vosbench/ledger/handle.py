"""The ledger, opened once: the one way the CLI, the notebooks, the panels and papermill reach it.

``Ledger.open(db)`` takes ``--db`` / the notebook's ``db_url``, else ``VOSBENCH_DB``, else the
embedded SQLite default (:mod:`vosbench.core.config`), checks that a ledger is there (or
creates one), brings it up to this version and hands back an object that knows its
engine, reporting time zone, currencies and fingerprint. Features take it (or its
``engine``) as their argument. Dialect-specific DDL stays behind it, in
:mod:`vosbench.ledger.guards` and :mod:`vosbench.ledger.setup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import config
from vosbench.ledger import database, hashchain, setup, tables


@dataclass(eq=False)
class Ledger:
    """An open ledger: its URL (as resolved), its engine and the facts every report needs."""

    url: str
    engine: Engine

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = False, timezone: str = "UTC") -> Ledger:
        """The ledger at ``db`` (else ``VOSBENCH_DB``, else the embedded default).

        With ``create`` an empty ledger in ``timezone`` is set up when none is there;
        without it a missing ledger raises :class:`~vosbench.ledger.database.StoreError`
        naming the URL and how to make one.
        """
        url = config.resolve_db_url(db)
        return cls(url, setup.open_ledger(url, create=create, timezone=timezone))

    @property
    def is_default(self) -> bool:
        """Whether this is the embedded default ledger (the one the demo may build)."""
        return config.is_default(self.url)

    @property
    def shown_url(self) -> str:
        """The URL with any password masked, as reports and messages show it."""
        return config.mask_url(self.url)

    @cached_property
    def timezone(self) -> str:
        """The IANA zone the ledger cuts its days and months in (fixed when it was created)."""
        with self.engine.connect() as connection:
            return database.ledger_timezone(connection)

    def currencies(self) -> list[str]:
        """The currencies the ledger's accounts hold, sorted."""
        return currencies(self.engine)

    def fingerprint(self) -> dict[str, dict]:
        """Chain head hash and row count per chained table: the ledger's identity in reports."""
        with self.engine.connect() as connection:
            return hashchain.fingerprint(connection)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def currencies(engine: Engine) -> list[str]:
    """The currencies a ledger's accounts hold, sorted (for axis titles and per-currency totals)."""
    with engine.connect() as connection:
        return sorted(connection.scalars(sa.select(tables.current_accounts.c.currency).distinct()))
