"""Building the demo ledger through the journal's one write door, and reading its answer key.

Accounts go in first, then month by month the payments (sorted by time, so ledger ids
follow time as VOS3000's record ids do), the day charges and the month-end snapshots.
``recorded_at`` is fixed, so the same scale always gives the same hash chains. A new
SQLite file is built under a temporary name and moved into place at the end, so an
interrupted build never leaves a half-built ledger where ``ensure_demo`` would take it
for a finished one.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict
from operator import attrgetter
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm import tqdm

from vosbench import __version__
from vosbench.core import config
from vosbench.core.config import mask_url
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database, policy, setup, tables, thresholds
from vosbench.ledger.handle import Ledger
from vosbench.ledger.policy import ControlSettings
from vosbench.ledger.write_door import NewPayment, append_batch, collector_paused
from vosbench.sources.demo import anomalies, hierarchy, incidents, reference, timeline
from vosbench.sources.demo import statements as demo_statements
from vosbench.sources.demo.payments import Draft, RecordMaker
from vosbench.sources.demo.scale import DemoScale
from vosbench.sources.demo.schedule import Schedule
from vosbench.sources.demo.simulate import Simulation

DEFAULT_TIMEZONE = "Asia/Dubai"
SOURCE = "demo"
ANSWER_KEY_META = "demo_answer_key"
PAYMENT_CHUNK = 100_000
_JOURNAL_TABLES = ("accounts", "payments", "charges", "balance_snapshots")


class DemoError(VosbenchError, ValueError):
    """The demo cannot be built where asked; the message names the ledger and the fix."""


def build_demo(url: str, scale: DemoScale = DemoScale(), *, progress: bool = True) -> dict:
    """Build the demo ledger at ``url`` (new or empty) and return its answer key."""
    scale.validate()
    months = timeline.months_ending(scale.end_month, scale.months, DEFAULT_TIMEZONE)
    with _staged(url) as build_url, collector_paused():
        engine = _empty_ledger(build_url, shown_url=url)
        try:
            key = _build(engine, scale, months, progress, statements_folder(url))
            if engine.dialect.name == "sqlite":
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
    path = _sqlite_file(url)
    if path is not None:
        path.with_suffix(".answer-key.json").write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
    return key


def ensure_demo(url: str, *, progress: bool = True) -> bool:
    """Build the demo at ``url`` with the default scale unless a ledger is there; True if it built."""
    engine = database.make_engine(url)
    try:
        present = setup.is_initialized(engine)
    finally:
        engine.dispose()
    if present:
        return False
    build_demo(url, progress=progress)
    return True


def open_or_build(db: str | None = None, *, progress: bool = False) -> Ledger:
    """The ledger at ``db`` (else ``VOSBENCH_DB``, else the embedded default), as notebooks open it.

    At the embedded default the demo is built first when nothing is there, so a notebook
    opened on a fresh machine has a ledger to show; anywhere else the ledger must exist.
    """
    url = config.resolve_db_url(db)
    if config.is_default(url):
        ensure_demo(url, progress=progress)
    return Ledger.open(url)


def answer_key(engine: Engine) -> dict | None:
    """The planted anomalies and commission rates of a demo ledger; None for any other ledger."""
    if not setup.is_initialized(engine):
        return None
    with engine.connect() as connection:
        text = database.get_meta(connection, ANSWER_KEY_META)
    return json.loads(text) if text else None


def statements_folder(url: str) -> Path:
    """Where the demo writes its statement files: beside an SQLite ledger, else a temporary folder."""
    path = _sqlite_file(url)
    return path.with_name(f"{path.stem}.statements") if path is not None else Path(tempfile.mkdtemp(prefix="vosbench-"))


def _build(engine: Engine, scale: DemoScale, months: list[timeline.DemoMonth], progress: bool,
           statements_dir: Path) -> dict:
    recorded_at = timeline.first_instant_after(months)

    def append(content: str, rows: list, name: str) -> list[int]:
        result = append_batch(engine, content, rows, source=SOURCE, file=f"demo/{name}", recorded_at=recorded_at)
        assert result.added == len(rows), f"demo batch {name}: {result.skipped} rows already present"
        return result.ids

    with engine.begin() as connection:  # the installation's thresholds, set at the demo's fixed moment
        thresholds.seed(connection, policy.seed_settings, at=recorded_at)
    people = hierarchy.generate(scale, DEFAULT_TIMEZONE)
    append("accounts", people.account_rows(), "accounts")
    reference.write(engine, people)  # operators, a managed account, commission rates (for the controls)
    maker = RecordMaker(random.Random(f"{scale.seed}:records"))
    schedule = Schedule()
    incidents.schedule_incidents(people, months, maker, schedule, scale.seed)
    planted = anomalies.plant(people, months[-1], maker, schedule, scale.seed)
    simulation = Simulation(people, schedule, maker, scale.seed, scale.payments_per_month)
    source_keys = itertools.count(1)
    ids_by_tag: dict[str, list[int]] = defaultdict(list)
    total = 0
    with tqdm(months, desc="building the demo ledger", unit="month", disable=not progress) as bar:
        for month in bar:
            records = simulation.run(month)
            drafts = _in_ledger_order(records.payments, source_keys)
            for start in range(0, len(drafts), PAYMENT_CHUNK):
                chunk = drafts[start:start + PAYMENT_CHUNK]
                ids = append("payments", [_payment_row(d, month, line) for line, d in enumerate(chunk, 1)],
                             f"{month.label}/payments-{start // PAYMENT_CHUNK + 1}")
                for draft, payment_id in zip(chunk, ids):
                    if draft.tag:
                        ids_by_tag[draft.tag].append(payment_id)
            records.charges.sort(key=attrgetter("day"))
            append("charges", records.charges, f"{month.label}/charges")
            append("balances", records.snapshots, f"{month.label}/balances")
            total += len(drafts)
            bar.set_postfix(payments=total)
    for anomaly in planted:
        anomaly.payment_ids = ids_by_tag.get(anomaly.id, [])
        if anomaly.kind == "commission_mismatch":
            agent = next(a for a in people.agents if a.account == anomaly.account)
            wrong, _ = schedule.commission_faults[(months[-1].index, agent.account)]
            anomalies.describe_commission(anomaly, agent.commission_rate, wrong,
                                          simulation.call_fees[months[-2].index][agent.index])
    key = {
        "seed": scale.seed,
        "scale": {**asdict(scale), "currencies": list(scale.currencies)},  # as JSON keeps it
        "timezone": DEFAULT_TIMEZONE,
        "generated_by": f"vosbench {__version__}",
        "anomalies": [anomaly.as_dict() for anomaly in planted],
        "commission_rates": {a.account: a.commission_rate for a in people.commission_earners()},
        "statements": demo_statements.make_and_import(engine, months, statements_dir, planted, scale.seed,
                                                      DEFAULT_TIMEZONE),
    }
    with engine.begin() as connection:
        database.set_meta(connection, ANSWER_KEY_META, json.dumps(key))
    return key


def _in_ledger_order(drafts: list[Draft], source_keys) -> list[Draft]:
    """The month's records by time; source keys number them in that order, like VOS3000 record ids."""
    drafts.sort(key=attrgetter("day", "seconds", "seq"))
    for draft in drafts:
        draft.source_key = str(next(source_keys))
    return drafts


def _payment_row(d: Draft, month: timeline.DemoMonth, line: int) -> NewPayment:
    return NewPayment(d.source_key, d.account, d.kind, d.amount, month.moment(d.day, d.seconds), d.operator,
                      d.channel, d.method, d.reference, d.memo, d.reason, d.balance_after,
                      d.original.source_key if d.original else "", None, d.approved_by, line)


def _sqlite_file(url: str) -> Path | None:
    parsed = database.ledger_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


@contextmanager
def _staged(url: str):
    """Yield the URL to build at: for a new SQLite file a temporary sibling, moved into place on success."""
    path = _sqlite_file(url)
    if path is None or path.exists():
        yield url
        return
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)  # our own remains of an interrupted build
    yield sa.make_url(url).set(database=str(partial)).render_as_string(hide_password=False)
    os.replace(partial, path)
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)


def _empty_ledger(build_url: str, *, shown_url: str) -> Engine:
    """Open (or create) the ledger to build into; refuse one that holds anything or cuts days elsewhere."""
    # no thresholds yet: the build sets them at its fixed moment
    engine = setup.open_ledger(build_url, create=True, timezone=DEFAULT_TIMEZONE, controls=ControlSettings())
    with engine.connect() as connection:
        zone = database.ledger_timezone(connection)
        counts = {name: connection.scalar(sa.select(sa.func.count()).select_from(tables.metadata.tables[name]))
                  for name in _JOURNAL_TABLES}
    where = mask_url(shown_url)
    if any(counts.values()):
        engine.dispose()
        held = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items() if count)
        raise DemoError(f"the ledger at {where} already holds {held}; the demo is built only into a new, "
                        "empty ledger. To fix this, give another ledger with --db URL (or VOSBENCH_DB), or "
                        "move the existing ledger file away and build again")
    if zone != DEFAULT_TIMEZONE:
        engine.dispose()
        raise DemoError(f"the ledger at {where} cuts days in {zone}, the demo needs {DEFAULT_TIMEZONE}. "
                        "To fix this, build the demo into a new ledger with --db URL")
    return engine
