"""Where a report's numbers come from: parameters, ledger, fingerprint, syncs, version, time.

Every report carries these facts so that a reader can rerun it and compare: the same
parameters on a ledger with the same fingerprint give the same numbers. The ledger
URL is shown with any password masked. A ledger fed by a source sync (VOS3000) also
names each synced stream: how far it was read, when, and the choices the sync made
(where charges came from, the money rule, the code mapping), so an auditor can trace
a number back to the switch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from vosbench import __version__
from vosbench.core.config import mask_url
from vosbench.ledger import tables
from vosbench.ledger.hashchain import CHAINED_TABLES, ROW_CHAINED_TABLES


@dataclass(frozen=True)
class Provenance:
    """The facts printed in a report's provenance section and sheet."""

    parameters: dict
    ledger_url: str  # already masked
    ledger_timezone: str
    report_timezone: str
    fingerprint: dict[str, dict]  # chain table -> {"rows": n, "head": sha256}
    syncs: tuple[tuple[str, str], ...] = ()  # (item, value) per synced stream, see synced_streams
    inputs: tuple[tuple[str, str], ...] = ()  # (item, value) per file read besides the ledger, see input_file
    closes: tuple[tuple[str, str], ...] = ()  # (item, value) per close and reopen of a month, oldest first
    vosbench_version: str = __version__
    generated_at: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @classmethod
    def collect(cls, *, parameters: dict, ledger_url: str, ledger_timezone: str,
                report_timezone: str, fingerprint: dict[str, dict],
                syncs: tuple[tuple[str, str], ...] = (), inputs: tuple[tuple[str, str], ...] = (),
                closes: tuple[tuple[str, str], ...] = ()) -> Provenance:
        """Gather the facts of a run now; the URL is masked here so it is never kept in clear."""
        shown = {name: mask_url(value) if isinstance(value, str) and "://" in value else value
                 for name, value in parameters.items()}
        return cls(parameters=shown, ledger_url=mask_url(ledger_url),
                   ledger_timezone=ledger_timezone, report_timezone=report_timezone,
                   fingerprint=fingerprint, syncs=syncs, inputs=inputs, closes=closes)

    def rows(self) -> list[tuple[str, str]]:
        """(item, value) pairs in reading order, all as text."""
        rows = [(f"parameter {name}", _text(value)) for name, value in self.parameters.items()]
        rows += [
            ("ledger URL", self.ledger_url),
            ("ledger time zone", self.ledger_timezone),
            ("report time zone", self.report_timezone),
        ]
        for table, head in sorted(self.fingerprint.items()):
            rows.append((f"fingerprint {table} rows", str(head["rows"])))
            rows.append((f"fingerprint {table} head", head["head"]))
        rows += list(self.inputs)
        rows += list(self.syncs)
        rows += list(self.closes)
        rows += [
            ("vosbench version", self.vosbench_version),
            ("generated at (UTC)", self.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
        ]
        return rows


def input_file(item: str, path: Path) -> tuple[str, str]:
    """(item, "path (sha256 …)") for a file a report read: a rerun with another file shows."""
    return item, f"{path} (sha256 {hashlib.sha256(path.read_bytes()).hexdigest()})"


def synced_streams(connection: sa.Connection) -> tuple[tuple[str, str], ...]:
    """One (item, value) per stream a source sync has read into the ledger, from ``sync_state``."""
    table = tables.sync_state
    rows = []
    for row in connection.execute(sa.select(table).order_by(table.c.source, table.c.stream)):
        choices = {key: value for key, value in json.loads(row.provenance).items() if key != "vosbench_version"}
        detail = "; ".join(f"{key} {_text(value)}" for key, value in choices.items())
        rows.append((f"synced {row.source} {row.stream}",
                     f"read up to {row.mark}; rows read {row.rows_read:,}; at {row.updated_at:%Y-%m-%d %H:%M:%S} UTC"
                     + (f"; {detail}" if detail else "")))
    return tuple(rows)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def verification_frame(verification) -> pd.DataFrame:
    """What ``ledger.verify`` found, one row per check: each hash chain, the month totals, then the structure (or,
    when it could not be made under this login, that and why: no check reads "ok")."""
    if verification.unmade:
        return pd.DataFrame([("verification", "not made", verification.unmade),
                             ("scope", verification.extent, verification.scope)], columns=["check", "result", "detail"])
    broken: dict[str, list[str]] = {}
    for item in verification.breaks:  # a chain may name several rows
        broken.setdefault(item.table, []).append(item.message)
    rows = [(f"hash chain of {name}", "broken" if name in broken else "ok", _shown(broken.get(name, [])))
            for name in (*CHAINED_TABLES, *ROW_CHAINED_TABLES)]
    mismatches = verification.total_mismatches
    rows.append(("month totals recomputed from raw records", "disagree" if mismatches else "ok", _shown(mismatches)))
    others = sorted({problem.check for problem in verification.problems} - {"schema", "guards", "anchor", "text index"})
    for check in ("schema", "guards", "anchor", "text index", *others):
        found = [problem.message for problem in verification.problems if problem.check == check]
        rows.append((check, "problems" if found else "ok", _shown(found)))
    if verification.notes:  # no integrity problem, but worth the reader's knowing (e.g. indexes an import set aside)
        rows.append(("notes", "see detail", _shown(verification.notes)))
    # an audit verifies from the last close on: what it recomputed, and what it left to a full verify
    rows.append(("scope", verification.extent, verification.scope))
    return pd.DataFrame(rows, columns=["check", "result", "detail"])


def _shown(messages: list[str]) -> str:
    return "; ".join(messages[:20]) + (f" … and {len(messages) - 20} more" if len(messages) > 20 else "")


def fingerprint_short(fingerprint: dict[str, dict]) -> str:
    """One line naming the ledger's state for a footer: a digest of every chain head, and the payment count.

    The digest changes whenever any chained table gains a row or is altered; the full
    heads are in the Provenance/Fingerprint sheets.
    """
    text = "|".join(f"{name}:{head['rows']}:{head['head']}" for name, head in sorted(fingerprint.items()))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    payments = fingerprint.get("payments", {}).get("rows")
    return f"fingerprint {digest}" + (f" ({payments:,} payment records)" if payments is not None else "")
