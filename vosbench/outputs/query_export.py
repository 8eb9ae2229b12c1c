"""Every record a payment filter selects, written to a file with the filter beside it (xlsx or CSV).

The panel's export buttons and ``vosbench query --out`` both come here, so a file made
from either carries the same filter sheet: the filter, the zone its times are in, the
ledger and its fingerprint.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from vosbench import __version__
from vosbench.analysis import explore
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.core import periods, timeshow
from vosbench.ledger import hashchain
from vosbench.outputs import export


def filter_sheet(engine: Engine, f: PaymentFilter) -> pd.DataFrame:
    """What an export holds: the filter, the zone its times are in, the ledger and its fingerprint."""
    with engine.connect() as connection:
        timezone = explore.reporting_timezone(connection, f)
        heads = hashchain.fingerprint(connection)
    rows = f.describe() + [
        ("Times shown in", timezone),
        ("Ledger", engine.url.render_as_string(hide_password=True)),
        *((f"Fingerprint {table}", hashchain.describe_head(head))
          for table, head in sorted(heads.items())),
        ("vosbench", __version__),
        ("Written at (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def shown_times(rows: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """``rows`` with ``occurred_at`` (naive UTC, as stored) as text in ``timezone`` carrying its offset,
    '2026-10-05 12:00:00 +04:00': how printed and CSV results show their times. From UTC, not from local
    wall-clock times: in the hour the clocks go back one wall-clock time is two instants, two offsets."""
    shown = rows.copy()
    shown["occurred_at"] = timeshow.shown_column(rows["occurred_at"], timezone)
    return shown


def filter_file(path: Path) -> Path:
    """Where a CSV export's filter is written: ``payments.csv`` → ``payments.filter.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.filter.csv")


def export_result(engine: Engine, f: PaymentFilter, path: Path, *, sort: str = "occurred_at",
                  descending: bool = True) -> Path:
    """Write every record the filter selects to ``path`` (.xlsx or .csv) and return the path.

    xlsx: a Payments sheet (with the total), Totals by kind and a Filter sheet. CSV: a plain
    CSV of the records (a header row, no comment lines, as accounting tools want it) and
    the filter beside it in ``<name>.filter.csv`` (:func:`filter_file`). Money is exact
    decimal text; text a spreadsheet would run as a formula is written as text. Times carry
    their zone: in CSV as text with the offset, in xlsx as times under a heading naming the zone.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise FilterError([f"export file {path.name!r}: name it .xlsx or .csv"])
    rows = explore.query_all(engine, f, sort=sort, descending=descending, utc=True)
    described = filter_sheet(engine, f)
    timezone = dict(described.itertuples(index=False))["Times shown in"]
    if suffix == ".csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        export.write_csv(shown_times(rows, timezone), path, explore.MONEY_COLUMNS)
        export.write_csv(described, filter_file(path))
        return path
    totals = explore.totals_by_kind(engine, f)
    per_currency = explore.totals_per_currency(totals)
    with engine.connect() as connection:
        seen = hashchain.fingerprint(connection)  # what the export saw: `vosbench verify --anchor` reads it back
    rows["occurred_at"] = periods.local_times(rows["occurred_at"], timezone)
    return export.write_xlsx(path, [
        export.Table("Payments", "Payment records",
                     rows.rename(columns={"occurred_at": timeshow.heading("occurred_at", timezone)}), explore.MONEY_COLUMNS,
                     {currency: {"amount": row["amount"]} for currency, row in per_currency.items()}),
        export.Table("Totals by kind", "Totals by kind", totals, ("amount",), per_currency),
        export.Table("Filter", "Filter", described),
        export.Table("Fingerprint", "Ledger fingerprint: chain head and row count per table",
                     hashchain.fingerprint_frame(seen)),
    ])
