"""Retention that keeps the proof: older closed months written to an archive, read back, then purged.

``vosbench archive --before YYYY-MM`` runs three steps, each refusing to go on when the
one before did not hold:

1. :func:`write` puts every payment, charge and balance dated before that month in an
   archive folder: one Parquet file per table (every column, hashes included), the
   accounts and the archived months' totals, and ``manifest.json`` with the counts, the
   per-kind sums per currency, the chain's links around each run of archived ids, the
   chain heads of the moment and every file's sha256. The months must all be closed.
2. :func:`verify_folder` reads the folder back, offline: files against the manifest, the
   counts and sums recomputed, and each run's rows re-hashed from the link before it to
   the link after it.
3. :func:`purge` records the manifest in ``archives`` and each run in ``purged_ranges``
   (both append-only and chained), then deletes exactly those rows, in one transaction.
   The journal's guards let a DELETE through only for ids inside a recorded range.

What stays: every account's month totals (their closings carry the balance forward, so
reconciliation of a later month reads the same opening), the chain heads, and in each
range the links on either side, so ``verify`` steps over a range and goes on checking
what remains (:func:`vosbench.ledger.hashchain.verify_chain`). ``verify`` also checks
each archive record against its ranges and the archived months' totals against the
manifest (:func:`problems`); with the checkpoint key the manifest carries an HMAC.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import periods, resources, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.ledger import database, explore_upkeep, hashchain, month_close, tables
from vosbench.ledger.anchor import CheckpointKey, canonical, seal, seal_problem, unsealed
from vosbench.ledger.inspection import Problem

ARCHIVED_TABLES = ("payments", "charges", "balance_snapshots")
MANIFEST = "manifest.json"
_BATCH = 50_000


class ArchiveError(VosbenchError, ValueError):
    """An archive that cannot be written, trusted or purged; the message says why and what to do."""


class NothingToArchive(ArchiveError):
    """No record is dated before the month given (a retention run with nothing to do)."""


@dataclass
class _Run:
    """A run of consecutive archived ids of one table, with the chain's links around it."""

    first_id: int
    last_id: int
    previous_hash: str
    last_hash: str

    def as_list(self) -> list:
        """As the manifest holds it: [first id, last id, link before, last link]."""
        return [self.first_id, self.last_id, self.previous_hash, self.last_hash]


@dataclass
class _Tally:
    """What one table's archived rows add up to, gathered while they are written."""

    rows: int = 0
    runs: list[_Run] = field(default_factory=list)
    sums: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> figure -> minor units

    def add(self, currency: str, figure: str, amount: int) -> None:
        by_figure = self.sums.setdefault(currency, {})
        by_figure[figure] = by_figure.get(figure, 0) + amount


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def boundary(connection: sa.Connection) -> str | None:
    """The month before which everything was archived and purged (None: the ledger never purged)."""
    if not sa.inspect(connection).has_table(tables.archives.name):
        return None
    return connection.scalar(sa.select(sa.func.max(tables.archives.c.before_month)))


def _cutoff(table: sa.Table, period: periods.Period) -> sa.ColumnElement[bool]:
    if table.name == "charges":
        return table.c.day < period.first_day
    return (table.c.occurred_at if table.name == "payments" else table.c.as_of) < period.start


def _months_to_archive(connection: sa.Connection, before: str, since: str | None) -> list[str]:
    """The months with records before ``before`` not archived yet; all must be closed."""
    table = tables.account_months
    query = sa.select(table.c.month).where(table.c.month < before).distinct()
    if since:
        query = query.where(table.c.month >= since)
    months = set(connection.scalars(query))
    snapshots = tables.balance_snapshots
    keyer_zone = database.ledger_timezone(connection)
    period = periods.month(before, keyer_zone)
    for (as_of,) in connection.execute(sa.select(snapshots.c.as_of).where(snapshots.c.as_of < period.start)):
        months.add(periods.local_day(as_of, keyer_zone).isoformat()[:7])
    return sorted(months)


def _check_closed(connection: sa.Connection, before: str) -> tuple[periods.Period, list[str], str | None]:
    zone = database.ledger_timezone(connection)
    period = periods.month(before, zone)
    since = boundary(connection)
    if since and before <= since:
        raise ArchiveError(f"archive --before {before}: everything before {since} is archived already; "
                           "give a later month")
    months = _months_to_archive(connection, before, since)
    if not months:
        raise NothingToArchive(f"archive --before {before}: the ledger holds no records before {before} to archive")
    closed = month_close.trusted_closed_months(connection)
    unclosed = [month for month in months if month not in closed]
    if unclosed:
        raise ArchiveError(f"archive --before {before}: {', '.join(unclosed)} "
                           f"{'is' if len(unclosed) == 1 else 'are'} not closed; only closed months are archived "
                           "(`vosbench close --month YYYY-MM --by LOGIN`), so that nothing can still change in them")
    return period, months, since


def _link_before(connection: sa.Connection, table: sa.Table, first_id: int) -> str:
    """The chain's link before ``first_id``: the row there, a range purged earlier, or the start."""
    if first_id == 1:
        return hashchain.GENESIS
    found = connection.scalar(sa.select(table.c.hash).where(table.c.id == first_id - 1))
    if found is not None:
        return found
    for gap in hashchain.purged_ranges(connection, table.name).values():
        if gap.last_id == first_id - 1:
            return gap.last_hash
    raise ArchiveError(f"{table.name} row {first_id - 1} is missing; run `vosbench verify` before archiving")


def _arrow_schema(table: sa.Table):
    import pyarrow as pa

    def kind(column: sa.Column):
        if isinstance(column.type, sa.DateTime):
            return pa.timestamp("us")
        if isinstance(column.type, sa.Date):
            return pa.date32()
        if isinstance(column.type, sa.Integer):
            return pa.int64()
        return pa.string()

    return pa.schema([(column.name, kind(column)) for column in table.columns])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tally_part(tally: _Tally, name: str, by_name: dict, currency_of: dict[int, str]) -> None:
    """Add one batch's sums: payments per kind, charges per fee (and calls), per the account's currency."""
    currencies = [currency_of.get(account_id, "?") for account_id in by_name["account_id"]]
    if name == "payments":
        for currency, kind, amount in zip(currencies, by_name["kind"], by_name["amount"]):
            tally.add(currency, kind, amount)
    elif name == "charges":
        for figure in ("call_fee", "agent_fee", "other_fee", "calls"):
            for currency, amount in zip(currencies, by_name[figure]):
                tally.add(currency, figure, amount)


def _write_table(connection: sa.Connection, table: sa.Table, period: periods.Period, folder: Path,
                 currency_of: dict[int, str]) -> _Tally:
    """Stream ``table``'s archived rows to Parquet, tallying counts, sums and runs on the way."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(table)
    names = [column.name for column in table.columns]
    tally = _Tally()
    run: _Run | None = None
    result = connection.execute(sa.select(table).where(_cutoff(table, period)).order_by(table.c.id),
                                execution_options={"stream_results": True, "yield_per": _BATCH})
    with pq.ParquetWriter(folder / f"{table.name}.parquet", schema, compression="zstd") as writer:
        for part in result.partitions():
            columns = list(zip(*part))
            writer.write_table(pa.Table.from_arrays([pa.array(list(values), type=schema.field(name).type)
                                                     for name, values in zip(names, columns)], schema=schema))
            by_name = dict(zip(names, columns))
            for row_id, row_hash in zip(by_name["id"], by_name["hash"]):
                if run is None or row_id != run.last_id + 1:
                    run = _Run(row_id, row_id, _link_before(connection, table, row_id), "")
                    tally.runs.append(run)
                run.last_id, run.last_hash = row_id, row_hash
            tally.rows += len(part)
            _tally_part(tally, table.name, by_name, currency_of)
    return tally


def _month_totals_rows(connection: sa.Connection, before: str, since: str | None) -> list[dict]:
    """The archived months' kept totals (what carries their balances forward), in a fixed order."""
    table = tables.account_months
    query = sa.select(table).where(table.c.month < before).order_by(table.c.account_id, table.c.month)
    if since:
        query = query.where(table.c.month >= since)
    return [dict(row._mapping) for row in connection.execute(query)]


def month_totals_digest(rows: list[dict]) -> str:
    """sha256 of month-total rows as canonical JSON: what the manifest and ``verify`` compare."""
    return hashlib.sha256(canonical({"rows": [[row[name] for name in sorted(row)] for row in rows]})
                          .encode("utf-8")).hexdigest()


def write(engine: Engine, before: str, folder: Path, *, by: str = "", key: CheckpointKey | None = None) -> dict:
    """Write the records dated before ``before`` to ``folder``; the manifest (also written there).

    People's workbook (:mod:`vosbench.outputs.archive_book`) is written by the command beside
    these files and added with :func:`add_file`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ArchiveError(f"archive folder {folder} is not empty; give a new folder (--out DIR)")
    with engine.connect() as connection:
        # who may purge is checked before anything is written: a clerk's archive would hold the ledger's records
        month_close.check_supervisor(connection, (by or "").strip(), action="archive and purge months")
        period, months, since = _check_closed(connection, before)
        folder.mkdir(parents=True, exist_ok=True)  # only once there is something to write: a refusal leaves no trace
        accounts = tables.current_accounts
        account_rows = connection.execute(sa.select(accounts).order_by(accounts.c.id)).all()
        currency_of = {row.id: row.currency for row in account_rows}
        account_schema = _arrow_schema(accounts)
        pq.write_table(pa.Table.from_pylist([dict(row._mapping) for row in account_rows], schema=account_schema),
                       folder / "accounts.parquet")
        totals = _month_totals_rows(connection, before, since)
        pq.write_table(pa.Table.from_pylist(totals, schema=_arrow_schema(tables.account_months)),
                       folder / "account_months.parquet")
        manifest: dict = {
            "kind": "vosbench archive", "before": before, "since": since or "", "months": months,
            "timezone": period.timezone, "archived_by": by, "written_at": hashchain.canonical_time(_now()),
            "heads": hashchain.anchor_heads(connection), "tables": {}, "sums": {},
            "month_totals": {"rows": len(totals), "sha256": month_totals_digest(totals)},
        }
        for name in ARCHIVED_TABLES:
            tally = _write_table(connection, tables.metadata.tables[name], period, folder, currency_of)
            manifest["tables"][name] = {"rows": tally.rows, "runs": [run.as_list() for run in tally.runs]}
            if tally.sums:
                manifest["sums"][name] = tally.sums
    manifest["files"] = {path.name: _sha256(path) for path in sorted(folder.iterdir())}
    return _save_manifest(folder, manifest, key)


def _save_manifest(folder: Path, manifest: dict, key: CheckpointKey | None) -> dict:
    manifest = seal(manifest, key) if key else unsealed(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def add_file(folder: Path, name: str, key: CheckpointKey | None = None) -> dict:
    """Add a file written beside the records (people's workbook) to the manifest's sums."""
    manifest = read_manifest(folder)
    manifest["files"][name] = _sha256(Path(folder) / name)
    return _save_manifest(Path(folder), manifest, key)


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiveError(f"{folder} holds no {MANIFEST}; give a folder written by `vosbench archive`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArchiveError(f"{path} cannot be read ({error}); the archive is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "vosbench archive":
        raise ArchiveError(f"{path} is not a vosbench archive manifest")
    return manifest


# --- reading an archive back -------------------------------------------------------------------

def read_table(folder: Path, name: str):
    """One archived table as a pyarrow Table (``vosbench query --archive`` and the read-back)."""
    import pyarrow.parquet as pq

    path = Path(folder) / f"{name}.parquet"
    try:
        return pq.read_table(path)
    except (OSError, ValueError) as error:
        raise ArchiveError(f"{path} cannot be read as Parquet ({error}); the archive is damaged") from None


def _batches(folder: Path, name: str) -> Iterator[dict]:
    """An archived table's rows in batches, as columns by name (every chained column and the hash)."""
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(Path(folder) / f"{name}.parquet").iter_batches(batch_size=_BATCH):
            yield {column: batch.column(column).to_pylist() for column in batch.schema.names}
    except (OSError, ValueError, KeyError) as error:
        raise ArchiveError(f"{name}.parquet cannot be read ({error}); the archive is damaged") from None


def verify_folder(folder: Path, key: CheckpointKey | None = None) -> list[str]:
    """What is wrong with the archive in ``folder`` (empty: it checks), read offline without the ledger."""
    folder = Path(folder)
    try:
        manifest = read_manifest(folder)
    except ArchiveError as error:
        return [str(error)]
    problems = []
    trouble = seal_problem(manifest, key, f"{folder / MANIFEST}")
    if trouble:
        problems.append(trouble)
    for name, expected in sorted(manifest.get("files", {}).items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing from the archive")
        elif _sha256(path) != expected:
            problems.append(f"{name} does not match its sha256 in the manifest (changed after it was written)")
    if problems:
        return problems
    currency_of = dict(zip(*(read_table(folder, "accounts").column(name).to_pylist() for name in ("id", "currency"))))
    for name in ARCHIVED_TABLES:
        problems += _check_records(folder, name, manifest, currency_of)
    totals = read_table(folder, "account_months").to_pylist()
    if month_totals_digest(totals) != manifest["month_totals"]["sha256"]:
        problems.append("account_months.parquet does not hold the month totals the manifest records")
    return problems


def _check_records(folder: Path, name: str, manifest: dict, currency_of: dict) -> list[str]:
    """Re-hash every run of ``name`` from the link before it to the one the manifest says it ends in."""
    expected = manifest["tables"][name]
    runs = {first: (last, previous, last_hash) for first, last, previous, last_hash in expected["runs"]}
    columns = hashchain.chained_columns(tables.metadata.tables[name])
    tally, found, problems = _Tally(), [], []
    last_id, previous = -1, ""
    for by_name in _batches(folder, name):
        for values in zip(*(by_name[column] for column in columns), by_name["hash"]):
            row_id = values[0]
            if row_id != last_id + 1:
                if row_id not in runs:
                    return [f"{name} row {row_id} starts no run the manifest records"]
                found.append([row_id, row_id, runs[row_id][1], ""])
                previous = runs[row_id][1]
            previous = hashchain.row_hash(previous, values[:-1])
            if previous != values[-1]:
                return [f"{name} row {row_id} in the archive was changed after it was recorded (hash mismatch)"]
            found[-1][1], found[-1][3], last_id = row_id, previous, row_id
        tally.rows += len(by_name["id"])
        _tally_part(tally, name, by_name, currency_of)
    if found != [list(run) for run in expected["runs"]]:
        problems.append(f"{name}: the archived rows form other runs than the manifest records "
                        "(rows missing, added or their links changed)")
    if tally.rows != expected["rows"]:
        problems.append(f"{name}: the archive holds {tally.rows} rows, the manifest records {expected['rows']}")
    if tally.sums != manifest.get("sums", {}).get(name, {}):
        problems.append(f"{name}: the archived sums per currency differ from the manifest's")
    return problems


# --- purging what an archive holds ----------------------------------------------------------------

def purge(engine: Engine, folder: Path, *, by: str, key: CheckpointKey | None = None) -> int:
    """Record the verified archive in ``folder`` and delete the rows it holds, in one transaction; how many.

    On a server the ledger's owner purges: the application's roles may not delete.
    """
    folder = Path(folder)
    problems = verify_folder(folder, key)
    if problems:
        raise ArchiveError(f"the archive in {folder} does not verify, nothing was purged: {'; '.join(problems[:5])}")
    manifest = read_manifest(folder)
    with engine.connect() as connection, _references_unchecked(connection):
        try:
            with connection.begin():
                return _purge(connection, folder, manifest, by, key)
        except sa.exc.IntegrityError as error:  # PostgreSQL keeps its references: a kept record names an archived one
            raise ArchiveError(f"nothing was purged: a record kept in the ledger refers to one in the archive in "
                               f"{folder} ({str(error.orig).splitlines()[-1].replace('DETAIL:', '').strip()}); "
                               "PostgreSQL keeps every reference, so archive only the months before that "
                               "record's") from None


@contextlib.contextmanager
def _references_unchecked(connection: sa.Connection) -> Iterator[None]:
    """Let a kept reversal or decision keep pointing at an archived payment while the purge runs.

    The reference stays, the record is in the archive. Foreign keys are per connection, and
    only this one purges (SQLite ignores its pragma inside a transaction, so it goes to the
    driver before one begins); PostgreSQL has no such switch for its owner.
    """
    dialect = connection.dialect.name
    switch = {"sqlite": "PRAGMA foreign_keys={}", "mysql": "SET SESSION foreign_key_checks={}",
              "mariadb": "SET SESSION foreign_key_checks={}"}.get(dialect)
    if switch is None:
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection always has its driver's
    cursor = driver.cursor()
    cursor.execute(switch.format("OFF" if dialect == "sqlite" else 0))
    try:
        yield
    finally:
        cursor.execute(switch.format("ON" if dialect == "sqlite" else 1))
        cursor.close()


def _purge(connection: sa.Connection, folder: Path, manifest: dict, by: str, key: CheckpointKey | None) -> int:
    month_close.check_supervisor(connection, (by or "").strip(), action="purge archived months")
    for name in ARCHIVED_TABLES:
        hashchain.lock_head(connection, name)
    period, _months, since = _check_closed(connection, manifest["before"])
    if (since or "") != manifest["since"]:
        raise ArchiveError(f"the archive in {folder} was written before another archive was purged; write it again")
    for name in ARCHIVED_TABLES:
        table = tables.metadata.tables[name]
        ids = list(connection.scalars(sa.select(table.c.id).where(_cutoff(table, period)).order_by(table.c.id)))
        runs = manifest["tables"][name]["runs"]
        if len(ids) != manifest["tables"][name]["rows"] or sum(last - first + 1 for first, last, *_ in runs) != len(ids):
            raise ArchiveError(f"{name}: the ledger now holds other records before {manifest['before']} than the "
                               f"archive in {folder}; write the archive again")
    manifest_text = canonical(manifest)
    archive_id = database.inserted_id(connection.execute(tables.archives.insert().values(
        before_month=manifest["before"], folder=str(folder.resolve()), archived_by=by, archived_at=_now(),
        manifest=manifest_text, manifest_sha256=hashlib.sha256(manifest_text.encode("utf-8")).hexdigest())))
    ranges = [{"archive_id": archive_id, "table_name": name, "first_id": first, "last_id": last,
               "previous_hash": previous, "last_hash": last_hash}
              for name in ARCHIVED_TABLES for first, last, previous, last_hash in manifest["tables"][name]["runs"]]
    if ranges:
        connection.execute(tables.purged_ranges.insert(), ranges)
    removed = 0
    text_indexed = sa.inspect(connection).has_table("payment_text")
    for item in ranges:
        table = tables.metadata.tables[item["table_name"]]
        within = table.c.id.between(item["first_id"], item["last_id"])
        if table.name == "payments" and text_indexed:  # the contentless index forgets a row given its text
            connection.exec_driver_sql(
                "INSERT INTO payment_text(payment_text, rowid, reference, memo) "
                "SELECT 'delete', id, reference, memo FROM payments WHERE id BETWEEN ? AND ? AND id IN "
                "(SELECT rowid FROM payment_text)", (item["first_id"], item["last_id"]))
        removed += connection.execute(table.delete().where(within)).rowcount
    explore_upkeep.after_purge(connection)
    return removed


# --- what verify checks ------------------------------------------------------------------------------

def problems(connection: sa.Connection, key: CheckpointKey | None = None) -> list[Problem]:
    """Archive records against their digests and HMACs, purged ranges against their archives, and the
    archived months' kept totals against the manifests."""
    if not sa.inspect(connection).has_table(tables.archives.name):
        return []
    found: list[Problem] = []
    manifests = {}
    for row in connection.execute(sa.select(tables.archives).order_by(tables.archives.c.id)):
        if hashlib.sha256(row.manifest.encode("utf-8")).hexdigest() != row.manifest_sha256:
            found.append(Problem("archives", "archives", row.id, f"archive {row.id}: its manifest does not match "
                                                                 "its recorded sha256"))
            continue
        manifest = json.loads(row.manifest)
        trouble = seal_problem(manifest, key, f"archive {row.id} ({row.folder})")
        if trouble:
            found.append(Problem("archives", "archives", row.id, trouble))
        manifests[row.id] = manifest
        totals = _month_totals_rows(connection, manifest["before"], manifest["since"] or None)
        if month_totals_digest(totals) != manifest["month_totals"]["sha256"]:
            found.append(Problem("archives", "account_months", None,
                                 f"the kept month totals of the months archive {row.id} holds (before "
                                 f"{manifest['before']}) differ from its manifest: the balances they carry "
                                 "forward were changed"))
    recorded: dict[int, set] = {archive_id: set() for archive_id in manifests}
    for row in connection.execute(sa.select(tables.purged_ranges).order_by(tables.purged_ranges.c.id)):
        entry = (row.table_name, row.first_id, row.last_id, row.previous_hash, row.last_hash)
        if row.archive_id not in manifests:
            found.append(Problem("archives", "purged_ranges", row.id,
                                 f"purged range {row.id} ({row.table_name} {row.first_id}–{row.last_id}) names "
                                 f"archive {row.archive_id}, which the ledger does not hold: rows were deleted "
                                 "without an archive"))
            continue
        recorded[row.archive_id].add(entry)
    for archive_id, manifest in manifests.items():
        expected = {(name, *run) for name in ARCHIVED_TABLES for run in
                    (tuple(each) for each in manifest["tables"][name]["runs"])}
        for entry in sorted(recorded[archive_id] ^ expected):
            found.append(Problem("archives", "purged_ranges", None,
                                 f"archive {archive_id}: purged range {entry[0]} {entry[1]}–{entry[2]} "
                                 f"{'is not in its manifest' if entry in recorded[archive_id] else 'is missing'}"))
    return found


def openings(connection: sa.Connection) -> tuple[str | None, dict[int, int]]:
    """The purge boundary and each account's closing before it: where recomputed totals start."""
    month = boundary(connection)
    if month is None:
        return None, {}
    table = tables.account_months
    latest = (sa.select(table.c.account_id, sa.func.max(table.c.month).label("month"))
              .where(table.c.month < month).group_by(table.c.account_id).subquery())
    return month, dict(connection.execute(
        sa.select(table.c.account_id, table.c.closing)
        .join(latest, sa.and_(table.c.account_id == latest.c.account_id, table.c.month == latest.c.month))).all())


@dataclass(frozen=True)
class RetentionPolicy:
    """How many months the ledger keeps (the current one included) and where archives go."""

    keep_months: int
    archive_root: Path

    def before(self, today: date) -> str:
        """The first month kept on ``today`` (a local day): everything before it is archived."""
        return periods.shift_label(today.isoformat()[:7], 1 - self.keep_months)


def load_policy(path: Path | None = None) -> RetentionPolicy:
    """The retention policy in ``path`` (default: parameters/retention.yaml); unknown keys are errors."""
    import yaml

    path = Path(path) if path else resources.parameters("retention.yaml")
    try:
        document = yaml_problem.load(path.read_bytes())
    except OSError as error:
        raise ArchiveError(f"retention policy {path}: {error.strerror}; give an existing file") from None
    except yaml.YAMLError as error:
        raise ArchiveError(f"retention policy {path} is not valid YAML ({yaml_problem.described(error)})") from None
    if not isinstance(document, dict):
        raise ArchiveError(f"retention policy {path} must be a mapping with keep_months and archive_root")
    unknown = sorted(set(document) - {"keep_months", "archive_root"})
    if unknown:
        raise ArchiveError(f"retention policy {path}: unknown key(s) {', '.join(map(str, unknown))}; "
                           "the keys are keep_months and archive_root")
    months = document.get("keep_months")
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        raise ArchiveError(f"retention policy {path}: keep_months must be a whole number of months, 1 or more "
                           f"(not {months!r})")
    return RetentionPolicy(months, Path(str(document.get("archive_root") or "archives")))


def folder_size(folder: Path) -> int:
    """Bytes the archive takes on disk."""
    return sum(os.path.getsize(path) for path in Path(folder).iterdir() if path.is_file())


def compact(engine: Engine) -> None:
    """Give the purged rows' space back to the file system (SQLite's VACUUM rewrites the file; a server
    rewrites the purged tables: PostgreSQL's VACUUM FULL, MariaDB's OPTIMIZE TABLE)."""
    if engine.dialect.name != "sqlite":
        purged = ", ".join(ARCHIVED_TABLES)
        statement = f"VACUUM FULL {purged}" if engine.dialect.name == "postgresql" else f"OPTIMIZE TABLE {purged}"
        # VACUUM cannot run inside a transaction
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement).close()
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        driver.execute("VACUUM")
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # VACUUM's pages go through the WAL too
