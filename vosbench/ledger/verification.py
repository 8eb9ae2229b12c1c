"""Verification of the whole ledger: structure, guards, every hash chain, and derived data against the records.

The checks run in an order where each can trust the ones before it: the schema first
(a table or column that is gone is reported, and the checks that would read it are
skipped rather than ending in a traceback), then the guards, the chains of every
guarded table, the month totals and the text index recomputed from the raw records.
Nothing here writes: ``vosbench verify`` runs it on a read-only connection
(:mod:`vosbench.ledger.readonly`).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import periods
from vosbench.ledger import anchor as anchor_module
from vosbench.ledger import (
    archive,
    database,
    decision_rows,
    explore_upkeep,
    hashchain,
    inspection,
    money_bounds,
    month_close,
    month_totals,
    readonly,
    scopes,
    setup,
    sync_marks,
    tables,
    text_index,
)
from vosbench.ledger.anchor import Anchor, CheckpointKey
from vosbench.ledger.database import StoreError
from vosbench.ledger.inspection import Problem


@dataclass
class Verification:
    """What ``verify`` found: chain breaks, month totals that disagree, and every other problem."""

    breaks: list[hashchain.ChainBreak] = field(default_factory=list)
    total_mismatches: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is worth knowing but no integrity problem
    fingerprint: dict = field(default_factory=dict)
    scope: str = ""  # empty: the whole history was recomputed; else where it started and what it left out
    extent: str = "whole ledger"  # the scope in a few words, for the Verification sheet
    unmade: str = ""  # why nothing was verified (a login that sees a subtree only): then no check is reported ok

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.total_mismatches and not self.problems


_TOTALS_READ = ("payments", "charges", "accounts", "account_months", "ledger_meta", "archives")

SIDE_BY_SIDE_ROWS = 100_000
"""Rows the second-longest journal chain has to re-hash before the chains are re-hashed side by side, each in a
process of its own (an SQLite file on a machine of two cores or more): starting a process costs about a second."""


def verify(engine: Engine, *, anchor: Anchor | None = None, key: CheckpointKey | None = None,
           from_anchor: bool = False, month: str | None = None,
           held: tuple[list[Anchor], list[Problem]] | None = None) -> Verification:
    """Check the ledger's structure and guards and recompute every chain and derived figure.

    ``anchor`` (heads seen by a receipt, workbook or pack) must still be held and extended;
    the close receipts inside the ledger are checked the same way, and with ``key`` their
    HMACs too. ``from_anchor`` trusts ``anchor`` and recomputes the chains only past it;
    the month totals are then left to a full verification, but for ``month`` (YYYY-MM),
    whose totals are recomputed from its own records. ``month`` without ``from_anchor`` (a month's
    audit of a ledger never closed) recomputes every chain whole and the derived figures as an anchored
    audit does: ``month``'s totals only. ``held`` is :func:`anchor_module.inside`'s answer
    when the caller read it already (each close receipt holds every account's closing: parsed once).
    """
    result = Verification()
    with engine.connect() as connection:
        scoped = scopes.scoped_role(connection)
        if scoped is not None:
            result.unmade = (f"this login ({scoped}) sees its subtree only, and the chains, totals and guards are the "
                             "whole ledger's: a login that sees everything (the owner's, a clerk's, a supervisor's "
                             "or an auditor's) verifies it")
            result.extent, result.scope = "not verified", result.unmade
            return result
        schema = inspection.schema_problems(connection)
        result.problems += schema
        damaged = {problem.table for problem in schema if problem.table != "ledger_meta"}

        def attempt(check: str, table: str, run: Callable[[], None]) -> None:
            if table in damaged or (check == "month totals" and damaged & set(_TOTALS_READ)):
                result.not_checked.append(f"{check} of {table}: skipped, its schema is damaged")
                return
            try:
                run()
            except StoreError as error:
                result.not_checked.append(f"{check} of {table}: {error}")
            except sa.exc.DatabaseError as error:
                result.problems.append(Problem(check, table, None, f"{check} of {table} could not be read: {error.orig}"))
            except (KeyError, TypeError, ValueError, ArithmeticError) as error:  # a value the write door never writes
                result.problems.append(Problem(check, table, None, (
                    f"{check} of {table} could not be computed: a row holds a value the ledger never writes "
                    f"({type(error).__name__}: {str(error)[:80]}); it was written behind the ledger's back")))

        attempt("guards", "all tables", lambda: result.problems.extend(inspection.guard_problems(connection)))
        since = None if month is None else _tested_since(connection, month)
        attempt("money totals", "account_months", lambda: result.problems.extend(
            Problem("money totals", table, None, message)
            for table, message in money_bounds.non_integer_totals(connection, since)))
        starts = _starts(connection, anchor) if from_anchor and anchor is not None else {}
        if from_anchor and anchor is not None:
            totals = f"the month totals of {month} only" if month else "no month totals"
            if month is not None:
                # the audited month's own records are re-hashed wherever they sit in the chains, and the
                # small chains of accounts, back office and decisions whole: only older journal rows are trusted
                starts = _month_starts(connection, month, starts)
                totals = f"every record dated in {month}, every other table whole, {totals}"
            totals += ", the text index over the recomputed payments"
            result.scope = (f"journal chains recomputed from {anchor.source} on, {totals}; a full `vosbench verify` "
                            "recomputes everything")
            result.extent = "since the last close"
        elif month is not None:
            result.scope = (f"every chain recomputed whole (no month close to start from), the month totals of {month} "
                            "only, the text index over every payment; a full `vosbench verify` recomputes everything")
            result.extent = f"every chain, {month}'s totals"
        with ExitStack() as pool:
            # the long journal chains are re-hashed in processes of their own while this one checks the rest
            pooled = _chains_side_by_side(engine, connection, starts, damaged, pool)
            # each chain's rows are tested for times stored in another form in the read that re-hashes them:
            # their problems go here, where that test's own pass put them, when the chain's check is done
            odd_times_at: dict[str, int] = {}
            for name in hashchain.CHAINED_TABLES:
                attempt("stored times", name, functools.partial(odd_times_at.__setitem__, name, len(result.problems)))
            for name in hashchain.ROW_CHAINED_TABLES:
                attempt("hash chain", name, functools.partial(_add_row_break, result, connection, name, starts))
            attempt("anchors", "month_closes", lambda: _check_anchors(connection, result, anchor, key, held))
            attempt("archives", "archives", lambda: result.problems.extend(archive.problems(connection, key)))
            attempt("match decisions", "match_decisions", lambda: result.problems.extend(
                Problem("match decisions", "match_decisions", row.decision_id, row.words())
                for row in decision_rows.read(connection)[1]))
            if from_anchor or month is not None:
                if month is None:
                    result.not_checked.append("month totals and closed months' closings: verified from the anchor on; "
                                              "a full `vosbench verify` recomputes them")
                else:
                    older = "" if since is None else f" (those from {since} on are tested for non-integers)"
                    result.not_checked.append(f"month totals of the months other than {month} (its own are recomputed "
                                              f"from its records), closed months' closings and the explore rollups{older}: "
                                              "a full `vosbench verify` recomputes them all")
                    attempt("month totals", "account_months",
                            lambda: result.total_mismatches.extend(_total_mismatches(connection, month)))
            else:
                attempt("month totals", "account_months",
                        lambda: result.total_mismatches.extend(_total_mismatches(connection)))
                # a closed month's closings are its month totals: checked where every total is (one query per closed month)
                attempt("month closings", "month_closes", lambda: result.problems.extend(
                    Problem("month closings", "month_closes", None, message)
                    for message in month_close.closing_problems(connection)))
                attempt("explore rollups", "payment_rollup",
                        lambda: result.total_mismatches.extend(explore_upkeep.mismatches(connection)))
            # from where the payments' chain was recomputed: an audit checks the index over the records it re-hashed
            indexed_after = starts.get("payments", {}).get("after", 0)
            attempt("text index", "payments", lambda: result.problems.extend(
                Problem("text index", "payments", payment_id, message)
                for payment_id, message in text_index.disagreements(connection, after=indexed_after)))
            attempt("sync marks", "sync_state", lambda: result.problems.extend(
                Problem("sync marks", "sync_state", None, message)
                for _stream, message in sync_marks.disagreements(connection)))
            row_breaks, result.breaks = result.breaks, []
            odd_times: dict[str, list[int]] = {}
            for name in hashchain.CHAINED_TABLES:  # the journal chains' breaks come first, as they always did
                attempt("hash chain", name, functools.partial(
                    _add_hashed_break, result, connection, name, starts, pooled.get(name),
                    odd_times.setdefault(name, []) if name in odd_times_at else None))
            result.breaks += row_breaks
            for name, at in reversed(odd_times_at.items()):  # the later places first: the earlier stay where they are
                result.problems[at:at] = inspection.odd_time_problems(name, odd_times.get(name, []))
        result.notes += _missing_index_notes(engine)
        attempt("fingerprint", "chain_heads", lambda: result.fingerprint.update(hashchain.fingerprint(connection)))
    return result


def _tested_since(connection: sa.Connection, month: str) -> str | None:
    """The first month whose kept totals a month's audit tests for non-integers: ``month``, or the first month after
    the last one closed when that comes earlier; None (every month) when no month is closed.

    Exact for what the audit vouches for: every month from there on is tested. A month up to the
    last close (other than the audited one) cannot move through the ledger: the database refuses
    every payment and charge dated into or before a closed month, so no append rewrites its totals;
    a total there that is not an integer was written behind the ledger's back into a closed month, as
    an integer changed there would be, and the month's audit leaves both to the full ``vosbench verify``
    (which tests every month's totals, recomputes them from the records and checks the closed months'
    closings against their receipts). What the audit reads of those months is caught where it reads it:
    the audited month's openings are the closings before it, and its totals recomputed from them
    disagree with the kept ones when a closing moved. At 10M payments the test of every month's totals
    (the explore rollups' millions of cells with them) was 2.8 s of each audit.
    """
    closes = tables.month_closes
    last_event = dict(connection.execute(sa.select(closes.c.month, closes.c.action).order_by(closes.c.id)).all())
    closed = [label for label, action in last_event.items() if action == "close"]
    if not closed:
        return None
    year, number = periods.parse_label(max(closed))
    after_close = f"{year + number // 12}-{number % 12 + 1:02d}"
    return min(month, after_close)


def _missing_index_notes(engine: Engine) -> list[str]:
    """The secondary indexes the ledger lacks, per table: an import stopped (Ctrl-C, kill) while it had set them
    aside. The records are whole and every unique key is kept, so it is no integrity problem; but every query
    reading that table is slower until a command that opens the ledger for writing builds them again."""
    missing = setup.missing_indexes(engine)
    by_table: dict[str, list[str]] = {}
    for table in tables.metadata.sorted_tables:
        named = sorted(str(index.name) for index in table.indexes if index.name in missing)
        if named:
            by_table[table.name] = named
    return [f"{table} lacks its indexes {', '.join(names)} (an import was stopped before it built them again): "
            "the records are whole, but queries are slower until `vosbench info` (or any command that opens the "
            "ledger for writing) builds them" for table, names in by_table.items()]


def _starts(connection: sa.Connection, anchor: Anchor) -> dict[str, dict]:
    """Where each anchored chain's verification starts: after the anchored row, from the anchored head."""
    starts = {}
    for name, seen in anchor.heads.items():
        link = hashchain.anchored_link(connection, name, int(seen["rows"]), seen.get("last_id"))
        if link is not None and link[1] == seen["head"]:  # else anchor.check reports it, and all is recomputed
            starts[name] = {"after": link[0], "previous": link[1], "count": int(seen["rows"])}
    return starts


def _month_starts(connection: sa.Connection, month: str, starts: dict[str, dict]) -> dict[str, dict]:
    """Journal chains start no later than their first record dated in ``month``; the other chains start at the first row."""
    zone = database.ledger_timezone(connection)
    period = periods.month(month, zone)
    first_day, last_day = periods.charge_days(period, zone)
    dated = {
        "payments": tables.payments.c.occurred_at.between(period.start, period.end),
        "charges": tables.charges.c.day.between(first_day, last_day),
        "balance_snapshots": tables.balance_snapshots.c.as_of.between(period.start, period.end),
    }
    moved = {}
    for name, in_month in dated.items():
        table = tables.metadata.tables[name]
        start = starts.get(name)
        first = connection.execute(sa.select(sa.func.min(table.c.id)).where(in_month)).scalar()
        if start is not None and (first is None or first > start["after"]):
            moved[name] = start
            continue
        if first is None:
            continue  # no anchor and nothing dated in the month: the chain is recomputed whole
        before = connection.execute(sa.select(table.c.id, table.c.hash).where(table.c.id < first)
                                    .order_by(table.c.id.desc()).limit(1)).first()
        if before is not None:  # else the month's first record is the chain's first: recomputed whole
            moved[name] = {"after": before.id, "previous": before.hash, "count": None}
    return moved


def _hashed_start(start: dict | None) -> dict:
    return {} if start is None else {"after": start["after"], "previous": start["previous"]}


def _check_anchors(connection: sa.Connection, result: Verification, given: Anchor | None, key: CheckpointKey | None,
                   held: tuple[list[Anchor], list[Problem]] | None) -> None:
    inside, sealing = held or anchor_module.inside(connection, key)
    inside = list(inside)  # the given anchor joins them below; the caller's list stays as it was
    result.problems += sealing
    if given is not None:
        if given.document is not None:
            trouble = anchor_module.seal_problem(given.document, key, given.source)
            if trouble:
                result.problems.append(Problem("anchor", "", None, trouble))
            changed = month_close.receipt_problem(connection, given.document)  # the auditor's receipt, not the ledger's own
            if changed:
                result.problems.append(Problem("anchor", "month_closes", None, f"{given.source}: {changed}"))
        inside.append(given)
    for each in inside:
        result.problems += anchor_module.check(connection, each)


def _add_hashed_break(result: Verification, connection: sa.Connection, name: str, starts: dict,
                      pooled: Future | None = None, odd_times: list[int] | None = None) -> None:
    """The chain's breaks, checked here or by its worker; with ``odd_times``, the ids of its rows holding a time in
    another form than the ledger writes (tested in the same read) added to it."""
    flagged: list[int] = []
    try:
        if pooled is not None:
            breaks, flagged = pooled.result()
        else:
            breaks = hashchain.verify_chain(connection, name, **_hashed_start(starts.get(name)),
                                            **_time_test(connection, name, flagged))
    except Exception:
        if odd_times is not None:  # the read stopped at a row it could not take: every row's times tested on their own
            odd_times += inspection.odd_time_ids(connection, name, starts.get(name, {}).get("after", 0))
        raise
    result.breaks += breaks
    if odd_times is not None:
        odd_times += flagged


def _time_test(connection: sa.Connection, name: str, flagged: list[int]) -> dict:
    """:func:`hashchain.verify_chain`'s arguments testing each row's stored times (SQLite: servers have one form)."""
    if connection.dialect.name != "sqlite":
        return {}
    return {"flag": inspection.odd_time_condition(tables.metadata.tables[name]), "flagged": flagged}


def _chains_side_by_side(engine: Engine, connection: sa.Connection, starts: dict, damaged: set[str],
                         pool: ExitStack) -> dict[str, Future]:
    """The journal chains' checks started in processes of their own, one per chain, when two or more are long.

    Re-hashing is one core's work per chain (the link of each row is checked against the
    stored hash of the row before it), and payments and charges are of a size at an operator's
    scale: side by side on two cores, the audit's longest step takes the time of the longer
    chain, not of both. Each process opens the SQLite file read-only and runs
    :func:`hashchain.verify_chain` as this process would; what it finds, or raises, comes back
    the same. Empty (every chain checked here) for a server ledger, one core, or short chains.
    """
    database_path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database_path or database_path == ":memory:" or (os.cpu_count() or 1) < 2:
        return {}
    heads = dict(connection.execute(sa.select(tables.chain_heads.c.name, tables.chain_heads.c.last_id)
                                    .where(tables.chain_heads.c.name.in_(hashchain.CHAINED_TABLES))).all())
    rows = {name: heads.get(name, 0) - starts.get(name, {}).get("after", 0)
            for name in hashchain.CHAINED_TABLES if name not in damaged}
    long = [name for name, count in sorted(rows.items(), key=lambda item: -item[1]) if count >= SIDE_BY_SIDE_ROWS]
    if len(long) < 2:
        return {}
    # spawned, not forked: the caller may be a notebook kernel with threads of its own
    workers = pool.enter_context(ProcessPoolExecutor(min(len(long), os.cpu_count() or 2),
                                                     mp_context=multiprocessing.get_context("spawn")))
    url = engine.url.render_as_string(hide_password=False)
    return {name: workers.submit(chain_break, url, name, _hashed_start(starts.get(name))) for name in long}


def chain_break(url: str, name: str, start: dict) -> tuple[list[hashchain.ChainBreak], list[int]]:
    """:func:`hashchain.verify_chain` of chain ``name`` of the SQLite ledger at ``url``, opened read-only (a worker's
    task): its breaks, and the ids of its rows holding a time in another form than the ledger writes."""
    # a URL in SQLite's URI form is `vosbench verify`'s read-only one already: opened as it is
    engine = sa.create_engine(url) if sa.make_url(url).query.get("uri") else readonly.open_read_only(url)
    try:
        with engine.connect() as connection:
            flagged: list[int] = []
            return hashchain.verify_chain(connection, name, **start, **_time_test(connection, name, flagged)), flagged
    finally:
        engine.dispose()


def _add_row_break(result: Verification, connection: sa.Connection, name: str, starts: dict) -> None:
    _add_break(result, hashchain.verify_row_chain(connection, name, **starts.get(name, {})))


def _add_break(result: Verification, broken: hashchain.ChainBreak | None) -> None:
    if broken is not None:
        result.breaks.append(broken)


def verify_month(engine: Engine, month: str) -> Verification:
    """What a month's audit verifies: everything appended since the last close the ledger holds, and ``month``'s totals.

    The latest month-close record whose receipt checks (its HMAC or signature, with the
    key of ``VOSBENCH_ANCHOR_KEY``, when one is set) is the anchor: the chains are
    recomputed from it on, and only ``month``'s totals from its records. A ledger that
    was never closed has no anchor: every chain is recomputed whole, and again only ``month``'s
    totals (the other months' totals and the explore rollups follow the whole history: at 10M
    payments they took many minutes, for figures the month's audit does not report). A ledger
    whose close records are all unreadable or fail their seal is verified whole, trusting none.
    ``vosbench verify`` is the complete check.
    """
    key = anchor_module.load_key()
    with engine.connect() as connection:
        held = anchor_module.inside(connection, key)  # a damaged receipt is no anchor: its check names it
    if not held[0] and held[1]:
        return verify(engine, key=key, held=held)
    if not held[0]:
        return verify(engine, key=key, month=month, held=held)
    return verify(engine, anchor=held[0][-1], key=key, from_anchor=True, month=month, held=held)


def _total_mismatches(connection: sa.Connection, month: str | None = None) -> list[str]:
    """Kept month totals against the raw records; after a purge, from the closings it carried forward.

    The archived months' own totals are checked against their archive's manifest
    (:func:`vosbench.ledger.archive.problems`): their records are no longer here.
    With ``month``, only that month's totals, from its own records and the stored closings before it.
    """
    since, openings = archive.openings(connection)
    if month is not None:
        if since is not None and month < since:
            return []  # archived: its archive's manifest vouches for it
        recomputed, kept = month_totals.recompute_month(connection, month), month_totals.stored(connection, month)
    else:
        recomputed, kept = month_totals.recompute(connection, openings), month_totals.stored(connection)
    if since is not None:
        recomputed = {key: value for key, value in recomputed.items() if key[1] >= since}
        kept = {key: value for key, value in kept.items() if key[1] >= since}
    accounts = dict(connection.execute(sa.select(tables.accounts.c.id, tables.accounts.c.account)).all())
    mismatches = []
    for key in sorted(set(recomputed) | set(kept), key=lambda k: (k[1], k[0])):
        if recomputed.get(key) != kept.get(key):
            account_id, label = key
            mismatches.append(
                f"month totals of {accounts.get(account_id, account_id)} for {label} disagree with "
                f"the raw records (kept {kept.get(key)}, recomputed {recomputed.get(key)})")
    return mismatches
