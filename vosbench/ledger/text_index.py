"""Reference/memo text search: a trigram index of the payments that catches up on demand.

A filter's text ("reference or memo contains, any case") is a LIKE scan of every record
in the filter's range — half a second over a million records. An FTS5 trigram index
answers it from the records holding the text's three-letter pieces instead.

Kept in step on every insert it would slow the write door down (+10–25 µs a record), so
it is derived: payments are append-only and their ids only grow, so the index plus a
high-water mark (the last payment id indexed, in ``ledger_meta``) is exact. Imports and
syncs call :func:`keep_up` after each file or chunk they append (one bulk statement, 8–10
µs a record), so the first search of a large ledger finds the index built rather than
spending minutes building it; :func:`prepare` indexes whatever is still past the mark
just before a text query runs, and :func:`candidates` reads the index *and* every record
past the mark, so even a stale index (a read-only or busy ledger, or a writer that came
in between) finds every match.

The index only narrows: the filter's LIKE condition is still applied to the candidates,
so the result is exactly the LIKE result. The trigram tokenizer folds case more widely
than LIKE (which folds ASCII only), so its candidates are a superset, never fewer.
Texts shorter than three characters, other databases and ledgers without the index use
the LIKE scan alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import database, guards, hashchain, tables

INDEX = "payment_text"
"""The FTS5 table: contentless (the text stays in ``payments``), rowid = payment id."""

MARK_KEY = guards.KEPT_UP_SETTING
"""``ledger_meta`` key: the highest payment id the index holds (on a server the one value a login may write)."""

MIN_LENGTH = 3
"""A trigram index finds texts of three characters or more."""

SELECTIVE = 50
"""The index is used when it names fewer than one record in this many: a candidate fetched by
id costs several times what the scan spends on a record, so a common text ("portal", half
the demo's records: 1.4 s through the index, 0.5 s scanned at 1M) is scanned."""

# detail=none keeps no positions (4x faster to build than full): trigrams are ANDed, not a
# phrase, and the LIKE condition the candidates still pass makes the result exact.
_CREATE = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5(reference, memo, content='', "
           "detail='none', tokenize='trigram')")

_index = sa.table(INDEX, sa.column("rowid"), sa.column("reference"), sa.column("memo"))
_payments = tables.payments


def searchable(text: str) -> bool:
    """True when ``text`` can be looked up in the index (three characters or more, no NUL)."""
    return len(text) >= MIN_LENGTH and "\x00" not in text


def match_expression(text: str) -> str:
    """The FTS5 query for records holding trigrams that cover ``text``, each quoted literally.

    The trigrams start every third character, plus the last one: together they cover the
    text, and ANDing a third of the pieces reads a third of the posting lists (3x faster for
    a long text, the same candidates in practice; the LIKE condition decides anyway).
    A double quote inside a piece is doubled (FTS5's string escape); every other character,
    ``*``, ``%``, ``_`` and ``'`` included, is plain text inside the quotes.
    """
    last = len(text) - MIN_LENGTH
    starts = [*range(0, last, MIN_LENGTH), last]
    pieces = dict.fromkeys(text[start:start + MIN_LENGTH] for start in starts)
    return " AND ".join('"' + piece.replace('"', '""') + '"' for piece in pieces)


def _mark(connection: sa.Connection) -> int | None:
    """The last payment id indexed, or None when this ledger has no index."""
    value = database.get_meta(connection, MARK_KEY)
    return None if value is None else int(value)


def _has_index(connection: sa.Connection) -> bool:
    return sa.inspect(connection).has_table(INDEX)


def catch_up(engine: Engine) -> int:
    """Index every payment past the mark in one transaction; the number of records indexed.

    Creates the index on first use. Raises SQLAlchemy's OperationalError when the ledger
    cannot be written (read-only file, busy writer) or the SQLite build lacks FTS5.
    """
    with engine.begin() as connection:
        # the payments' write lock first: two imports catching up at once must not both index
        # the records past one mark (the later would write its older mark back)
        hashchain.lock_head(connection, "payments")
        mark = _mark(connection)
        if mark is None or not _has_index(connection):
            connection.exec_driver_sql(_CREATE)
            mark = 0
        newest = connection.execute(sa.select(sa.func.coalesce(sa.func.max(_payments.c.id), 0))).scalar_one()
        if newest <= mark:
            return 0
        fresh = sa.select(_payments.c.id, _payments.c.reference, _payments.c.memo).where(
            _payments.c.id > mark, _payments.c.id <= newest)
        connection.execute(sa.insert(_index).from_select(["rowid", "reference", "memo"], fresh))
        database.set_meta(connection, MARK_KEY, str(newest))
        return newest - mark


def keep_up(engine: Engine) -> int:
    """Index the payments an import or sync has just appended; the number indexed (0 off SQLite).

    A ledger whose index cannot be written now (busy, read-only, no FTS5) is left as it is:
    the next search catches up or scans.
    """
    if engine.dialect.name != "sqlite":
        return 0
    try:
        return catch_up(engine)
    except sa.exc.OperationalError:
        return 0


def prepare(engine: Engine, text: str) -> bool:
    """Bring the index up to date for a search of ``text``; True when the query should use it.

    False (use the LIKE scan) for short texts, other databases, a ledger that has no index
    and cannot be given one, and a text too common for the index to pay (:data:`SELECTIVE`).
    A ledger whose index cannot catch up (read-only, busy) still uses it: :func:`candidates`
    scans the records past the mark itself.
    """
    if engine.dialect.name != "sqlite" or not searchable(text):
        return False
    with engine.connect() as connection:
        mark = _mark(connection)
        indexed = mark is not None and _has_index(connection)
        newest = connection.scalar(sa.select(sa.func.max(_payments.c.id))) or 0
    if mark is None or not indexed or newest > mark:
        try:
            catch_up(engine)
        except sa.exc.OperationalError:
            if not indexed:
                return False
    return _selective(engine, text, newest)


def _selective(engine: Engine, text: str, records: int) -> bool:
    """True when the index names fewer than one in :data:`SELECTIVE` of ``records`` for ``text``."""
    enough = max(1, records // SELECTIVE)
    named = _matches(text).limit(enough).subquery("named")
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(named)).scalar_one() < enough


def candidates(text: str) -> sa.CompoundSelect:
    """Payment ids that may contain ``text``: the index's matches and every record past its mark.

    Use with the LIKE condition (as ``id IN candidates AND (reference LIKE … OR memo LIKE …)``)
    and only after :func:`prepare` returned True.
    """
    newer = _payments.alias("newer")
    mark = (sa.select(sa.cast(tables.ledger_meta.c.value, sa.Integer))
            .where(tables.ledger_meta.c.key == MARK_KEY).scalar_subquery())
    return sa.union_all(_matches(text), sa.select(newer.c.id).where(newer.c.id > mark))


def _matches(text: str) -> sa.Select:
    """The ids of the indexed records that hold every trigram of ``text``."""
    return sa.select(_index.c.rowid).where(sa.literal_column(INDEX).op("MATCH")(match_expression(text)))



def disagreements(connection: sa.Connection, limit: int = 20, *, after: int = 0) -> list[tuple[int, str]]:
    """Payments the index should hold and does not, or holds and should not: (payment id, what).

    The index is derived, so ``verify`` checks it: a record dropped from it would vanish
    from every text search. Contentless, it cannot give its text back; what it must hold
    is exactly the payment ids up to its mark. ``after`` leaves out the ids up to it (a
    month's audit checks the records it re-hashes; a full verification, every one).
    """
    mark = _mark(connection)
    if connection.dialect.name != "sqlite" or mark is None or not _has_index(connection):
        return []
    newest = connection.scalar(sa.select(sa.func.coalesce(sa.func.max(_payments.c.id), 0))) or 0
    found = []
    if mark > newest:
        found.append((mark, f"the text index claims payments up to id {mark}; the ledger's last is {newest}"))
    indexed = sa.select(_payments.c.id).where(_payments.c.id > after, _payments.c.id <= mark)
    held = sa.select(_index.c.rowid).where(_index.c.rowid > after)
    # in id order, as both sides come: SQLite merges the two ordered reads instead of building a temporary index of
    # one (the same ids, smallest first: half the CPU, 1 s of a month's audit at 2M payments since the last close)
    in_order: sa.ColumnElement[int] = sa.literal_column("1")
    for (payment_id,) in connection.execute(indexed.except_(held).order_by(in_order).limit(limit)):
        found.append((payment_id, f"payment {payment_id} is missing from the text index: "
                                  "`query --text` would not find it"))
    for (payment_id,) in connection.execute(held.except_(indexed).order_by(in_order).limit(limit)):
        found.append((payment_id, f"the text index holds payment {payment_id}, which the ledger does not"))
    return found
