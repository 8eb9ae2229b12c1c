"""The evidence pack: one archive holding a month's records, the anchors they hang from and a manifest, checkable offline.

An outside auditor gets the pack, not the ledger. :func:`write` puts in it the month's
payments, charges and balances (each with the chain hash of the record before it, so
every record's own link can be recomputed), the accounts with their links, the close
receipt if the month is closed, the report if one is given, ``anchor.json`` (every chain
head when the pack was made, and the manifest's sha256, sealed with the checkpoint key
when there is one) and ``manifest.json`` (each file's sha256 and size, record counts and
the month's sums per kind). A pack vouches for what it holds, so :func:`write` first
recomputes every record's link and refuses, writing nothing, when one does not hash (the
ledger was changed behind its write door). :func:`verify` needs none of the ledger: a one-byte change to
any file, or a record whose link does not recompute, is reported. ``vosbench verify
--anchor PACK`` then proves a ledger still holds and extends what the pack saw.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench import __version__
from vosbench.core import periods
from vosbench.core.errors import VosbenchError
from vosbench.ledger import anchor, database, hashchain, month_close, tables

KIND = "vosbench evidence pack"
_DATED = {  # chained table → the column that dates its records, and whether it is an instant (else a day)
    "payments": ("occurred_at", True),
    "charges": ("day", False),
    "balance_snapshots": ("as_of", True),
}


class EvidenceError(VosbenchError, ValueError):
    """A pack that cannot be written or read; the message says which and what to do."""


class UnhashedRecords(EvidenceError):
    """Records of the month that no longer hash to their links: the ledger fails a check, so no pack vouches for it."""

    exit_code = 1


@dataclass
class PackCheck:
    """What :func:`verify` found in a pack: its problems (none when it holds) and what it holds."""

    problems: list[str] = field(default_factory=list)
    month: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    sealed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _line(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=hashchain.canonical_value)
            + "\n").encode("utf-8")


def _dated_records(connection: sa.Connection, name: str, period: periods.Period,
                   unhashed: list[str]) -> tuple[bytes, int, Counter]:
    """The period's records of ``name`` as JSON lines: id, values in hashed order, previous hash and hash.

    Each record whose values do not hash to its link is named in ``unhashed``."""
    table = tables.metadata.tables[name]
    before = table.alias("before")
    column, is_instant = _DATED[name]
    low, high = (period.start, period.end) if is_instant else (period.first_day, period.last_day)
    within = (table.c[column] >= low) & (table.c[column] < high if is_instant else table.c[column] <= high)
    columns = hashchain.chained_columns(table)
    query = (sa.select(*(table.c[c] for c in columns), table.c.hash, before.c.hash.label("previous"))
             .outerjoin(before, before.c.id == table.c.id - 1).where(within).order_by(table.c.id))
    out, count = io.BytesIO(), 0
    sums: Counter[str] = Counter()
    # a record right after a range a retention purge removed links to that range's last hash
    after_purge = {gap.last_id + 1: gap.last_hash for gap in hashchain.purged_ranges(connection, name).values()}
    for row in connection.execute(query):
        values = list(row[:len(columns)])
        previous = row.previous or after_purge.get(values[0], hashchain.GENESIS)
        if hashchain.row_hash(previous, values) != row.hash:
            unhashed.append(f"{name} record {values[0]}")
        out.write(_line({"id": values[0], "values": values, "previous": previous, "hash": row.hash}))
        count += 1
        if name == "payments":
            sums[row.kind] += row.amount
    return out.getvalue(), count, sums


def _accounts(connection: sa.Connection, unhashed: list[str]) -> tuple[bytes, int]:
    """Every account with the database's text of its row, its link and the link before it.

    Each account whose text does not hash to its link is named in ``unhashed``."""
    table, links = tables.accounts, tables.row_links
    dialect = connection.dialect.name
    ordered = (sa.select(links.c.row_id, links.c.hash,
                         sa.func.lag(links.c.hash).over(order_by=links.c.row_id).label("previous"))
               .where(links.c.table_name == "accounts").subquery())
    rowid: sa.ColumnClause[int] = sa.literal_column(f"accounts.{hashchain.row_key(dialect, table)}", sa.Integer())
    text = sa.literal_column(hashchain.row_text_sql(dialect, table), sa.Text())
    query = (sa.select(rowid.label("row_id"), text.label("text"),
                       ordered.c.hash, ordered.c.previous)
             .select_from(table).outerjoin(ordered, ordered.c.row_id == rowid).order_by(rowid))
    out, count = io.BytesIO(), 0
    for row in connection.execute(query):
        previous = row.previous or hashchain.GENESIS
        if hashchain.link(previous, row.text) != row.hash:
            unhashed.append(f"accounts record {row.row_id}")
        out.write(_line({"id": row.row_id, "text": row.text, "previous": previous, "hash": row.hash}))
        count += 1
    return out.getvalue(), count


def write(engine: Engine, month: str, out: Path, *, report: Path | None = None, key: anchor.CheckpointKey | None = None) -> Path:
    """Write the evidence pack of ``month`` to ``out`` (a .zip); return its path.

    Raises :class:`UnhashedRecords`, writing nothing, when a record it would hold does not hash to its link."""
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    unhashed: list[str] = []
    with engine.connect() as connection:
        period = periods.month(month, database.ledger_timezone(connection))
        sums: Counter = Counter()
        for name in _DATED:
            files[f"{name}.jsonl"], counts[name], found = _dated_records(connection, name, period, unhashed)
            sums.update(found)
        files["accounts.jsonl"], counts["accounts"] = _accounts(connection, unhashed)
        closed = month_close.closed_months(connection).get(period.label)
        heads = hashchain.anchor_heads(connection)
    if unhashed:
        shown = ", ".join(unhashed[:5]) + (f" and {len(unhashed) - 5} more" if len(unhashed) > 5 else "")
        raise UnhashedRecords(f"evidence of {period.label}: not written, the ledger was changed behind its write door "
                              f"({shown}: the values no longer hash to the recorded link); run `vosbench verify`")
    if closed is not None:
        files["close-receipt.json"] = (json.dumps(closed.receipt, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if report is not None:
        try:
            files[f"report/{Path(report).name}"] = Path(report).read_bytes()
        except OSError as error:
            raise EvidenceError(f"report {report}: {error.strerror}; give the audit's workbook or HTML") from None
    manifest = {"kind": KIND, "month": period.label, "timezone": period.timezone, "vosbench_version": __version__,
                "created_at": hashchain.canonical_time(datetime.now(UTC).replace(tzinfo=None)),
                "counts": counts, "payment_sums": dict(sorted(sums.items())),
                "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                          for name, data in sorted(files.items())}}
    manifest_bytes = (anchor.canonical(manifest) + "\n").encode("utf-8")
    anchored = {"kind": f"{KIND} anchor", "month": period.label, "heads": heads,
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest()}
    if key is not None:
        anchored = anchor.seal(anchored, key)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
            pack.writestr("manifest.json", manifest_bytes)
            pack.writestr("anchor.json", (json.dumps(anchored, indent=2, sort_keys=True) + "\n").encode("utf-8"))
            for name, data in files.items():
                pack.writestr(name, data)
    except OSError as error:
        raise EvidenceError(f"--out {out}: {error.strerror or error}; give a file in a folder you can write") from None
    return out


def verify(path: Path, *, key: anchor.CheckpointKey | None = None) -> PackCheck:
    """Check a pack offline: anchor seal, manifest digest, every file's sha256, every record's link."""
    check = PackCheck()
    try:
        with zipfile.ZipFile(path) as pack:
            contents = {name: pack.read(name) for name in pack.namelist()}
    except (OSError, zipfile.BadZipFile) as error:
        raise EvidenceError(f"{path} cannot be read as an evidence pack ({error}); "
                            "give a file written by `vosbench evidence`") from None
    documents = {}
    for name in ("manifest.json", "anchor.json"):
        if name not in contents:
            check.problems.append(f"{name} is missing from the pack")
            continue
        try:
            documents[name] = json.loads(contents[name])
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            check.problems.append(f"{name} is not valid JSON ({error}): the pack was changed")
    if check.problems:
        return check
    manifest, anchored = documents["manifest.json"], documents["anchor.json"]
    check.month, check.counts, check.sealed = manifest.get("month", ""), manifest.get("counts", {}), anchor.is_sealed(anchored)
    trouble = anchor.seal_problem(anchored, key, "anchor.json")
    if trouble:
        check.problems.append(trouble)
    if hashlib.sha256(contents["manifest.json"]).hexdigest() != anchored.get("manifest_sha256"):
        check.problems.append("manifest.json was changed: its sha256 is not the one anchor.json records")
    listed = manifest.get("files", {})
    for name in sorted(set(contents) - {"manifest.json", "anchor.json"} - set(listed)):
        check.problems.append(f"{name} is in the pack but not in its manifest")
    for name, expected in sorted(listed.items()):
        if name not in contents:
            check.problems.append(f"{name} is listed in the manifest but missing from the pack")
        elif hashlib.sha256(contents[name]).hexdigest() != expected["sha256"]:
            check.problems.append(f"{name} was changed: its sha256 differs from the manifest's")
    for name in _DATED:
        check.problems += _record_problems(contents.get(f"{name}.jsonl", b""), name,
                                           lambda record: hashchain.row_hash(record["previous"], record["values"]))
    check.problems += _record_problems(contents.get("accounts.jsonl", b""), "accounts",
                                       lambda record: hashchain.link(record["previous"], record["text"]))
    return check


def _record_problems(data: bytes, name: str, recompute) -> list[str]:
    problems = []
    for number, text in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            record = json.loads(text)
            ok = recompute(record) == record["hash"]
        except (json.JSONDecodeError, KeyError, TypeError):
            problems.append(f"{name}.jsonl line {number} is not a record")
            continue
        if not ok:
            problems.append(f"{name} record {record.get('id')} does not hash to its link (changed in the pack)")
    return problems
