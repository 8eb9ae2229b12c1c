"""How vosbench shows a moment to a person: one rule for every command, report and export.

A time is shown in the reporting time zone, to the second, labelled with that zone's
offset, e.g. ``2026-10-05 12:00:00 +04:00``. The store keeps naive UTC, and a time is shown
from that instant, never from a local wall-clock time: in the hour the clocks go back one
wall-clock time is two instants with two offsets. Table columns of local wall-clock times
(spreadsheets) carry the zone's name in their heading (:func:`heading`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vosbench.core.periods import zone

if TYPE_CHECKING:  # pandas is imported where a frame's column is shown: `vosbench reconcile` runs without it
    import pandas as pd

FORMAT = "%Y-%m-%d %H:%M:%S"


def shown(instant: datetime | pd.Timestamp | None, timezone: str | None = None) -> str:
    """``instant`` as shown to a person in ``timezone``: '2026-10-05 12:00:00 +04:00'; '' when missing.

    ``instant`` is naive UTC (the store's times); an aware instant is converted (``timezone``
    None: kept in its own zone).
    """
    if instant is None:
        return ""
    if not isinstance(instant, datetime) or type(instant).__module__.startswith("pandas"):
        import pandas as pd

        if pd.isna(instant):
            return ""
        instant = pd.Timestamp(instant).to_pydatetime()
    moment = instant
    if moment.tzinfo is None:
        if timezone is None:
            raise ValueError("a naive time needs the zone it is to be shown in")
        moment = moment.replace(tzinfo=UTC)
    if timezone is not None:
        moment = moment.astimezone(zone(timezone))
    offset = moment.strftime("%z")
    return f"{moment.strftime(FORMAT)} {offset[:3]}:{offset[3:]}"


def shown_texts(instants: Iterable[datetime | None], timezone: str) -> list[str]:
    """Naive UTC instants (None where missing) as :func:`shown` text, '' where missing: a column without pandas.

    Each distinct instant is shown once: a month's reported balances mostly share the month-end instant.
    """
    texts: dict[datetime | None, str] = {}
    column = list(instants)
    for instant in column:
        if instant not in texts:
            texts[instant] = shown(instant, timezone)
    return [texts[instant] for instant in column]


def shown_column(instants: pd.Series, timezone: str) -> pd.Series:
    """A column of naive UTC instants as :func:`shown` text."""
    import pandas as pd

    return pd.Series([shown(value, timezone) for value in instants], index=instants.index,
                     dtype=object)


def zoned(naive_utc: pd.Series, timezone: str) -> pd.Series:
    """A column of the store's naive UTC times as aware times in ``timezone`` (how frames hand times to views)."""
    import pandas as pd

    return pd.to_datetime(naive_utc).dt.tz_localize("UTC").dt.tz_convert(zone(timezone).key)


def heading(name: str, timezone: str) -> str:
    """A time column's heading naming its zone: 'time (Asia/Dubai)'."""
    return f"{name} ({timezone})"
