"""Opening a ledger to inspect it without changing it: what ``verify`` and anchoring read through.

:func:`vosbench.ledger.setup.open_ledger` creates missing tables and upgrades an older
ledger, which would repair (and so hide) a dropped table or guard. An inspection must
see the file as it is, so an SQLite ledger is opened with ``mode=ro``: the database
engine itself refuses any write on that connection. A server ledger is opened as
given; reading it with a login that has no write privilege gives the same assurance.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import database
from vosbench.ledger.database import StoreError


def _read_only_sqlite(dbapi_connection, record) -> None:
    database.register_link(dbapi_connection, record)
    dbapi_connection.execute("PRAGMA busy_timeout=30000")
    dbapi_connection.execute("PRAGMA query_only=ON")


def read_only_file(path: Path) -> Engine:
    """An engine on the SQLite file ``path`` opened with ``mode=ro``: whatever it holds, nothing is written to it."""
    # a URI: characters such as '?', '#' or '%' in the path are quoted, or SQLite would read them as syntax
    engine = sa.create_engine(sa.URL.create("sqlite", database=f"file:{quote(str(path))}?mode=ro", query={"uri": "true"}))
    sa.event.listen(engine, "connect", _read_only_sqlite)
    return engine


def open_read_only(url: str) -> Engine:
    """An engine that reads the ledger at ``url`` and cannot write it; a missing or damaged one is a StoreError."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise StoreError(f"ledger URL {url!r} is not a database URL ({error}); "
                         "give one like sqlite:///path/ledger.sqlite") from None
    if parsed.get_backend_name() != "sqlite":
        engine = database.make_engine(url)
    else:
        if parsed.database in (None, "", ":memory:"):
            raise StoreError(f"{url}: an in-memory ledger cannot be inspected from outside; give its file")
        path = Path(parsed.database).expanduser().resolve()
        if (folder := database.folder_named(url)) is not None:
            raise folder
        if not path.is_file():
            raise StoreError(f"no vosbench ledger at {url}: {path} does not exist; check --db / $VOSBENCH_DB, "
                             "build the demo with `vosbench demo` or import your data with `vosbench import PATH`")
        engine = read_only_file(path)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("ledger_meta"):
                raise StoreError(f"{url} holds no vosbench ledger (it has no ledger_meta table); "
                                 "check --db / $VOSBENCH_DB")
    except sa.exc.DatabaseError as error:
        engine.dispose()
        raise StoreError(f"{url} cannot be read as a database ({error.orig}); "
                         "restore it from a backup or an evidence pack") from None
    return engine
