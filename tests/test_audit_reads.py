"""The audit's fast reads give exactly what the general reads give (they replaced them for speed at 10M records).

Each fast path is compared with the reference it stands for on a generated ledger, and on
a ledger tampered with where the fast path could go wrong.
"""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from tamper_sql import behind_guards

from vosbench.controls import context
from vosbench.core import periods
from vosbench.ledger import queries, setup
from vosbench.sources import demo

SCALE = demo.DemoScale(customers=300, months=3)


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "ledger.sqlite"
    demo.build_demo(f"sqlite:///{path}", SCALE, progress=False)
    return path


def reference_month_payments(connection: sa.Connection, period: periods.Period) -> pd.DataFrame:
    """The controls' month read as it was: every time parsed by SQLAlchemy, value by value."""
    return context._typed(queries.frame(connection, "controls_month_payments", {"start": period.start, "end": period.end},
                                        times={"occurred_at": sa.DateTime(), "recorded_at": sa.DateTime()}))


def month_reads(path, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = setup.open_ledger(f"sqlite:///{path}")
    with engine.connect() as connection:
        period = periods.month(month, "UTC")
        return context.month_payments(connection, period), reference_month_payments(connection, period)


def test_the_controls_month_read_is_the_row_by_row_read(demo_ledger):
    fast, reference = month_reads(demo_ledger, SCALE.end_month)
    assert len(fast) > 500
    pd.testing.assert_frame_equal(fast, reference)


def test_a_time_stored_in_another_form_is_read_as_sqlalchemy_reads_it(demo_ledger, tmp_path):
    tampered = tmp_path / "tampered.sqlite"
    tampered.write_bytes(demo_ledger.read_bytes())
    engine = setup.open_ledger(f"sqlite:///{tampered}")
    with engine.connect() as connection:
        period = periods.month(SCALE.end_month, "UTC")
        payment_id = connection.scalar(sa.text("SELECT max(id) FROM payments WHERE occurred_at >= :start")
                                       .bindparams(sa.bindparam("start", type_=sa.DateTime())), {"start": period.start})
        stored = connection.scalar(sa.text(f"SELECT recorded_at FROM payments WHERE id = {payment_id}"))
    engine.dispose()
    behind_guards(tampered, f"UPDATE payments SET recorded_at = replace(substr(recorded_at, 1, 19), ' ', 'T') "
                            f"WHERE id = {payment_id}", tables=("payments",))
    fast, reference = month_reads(tampered, SCALE.end_month)
    pd.testing.assert_frame_equal(fast, reference)
    # the other form is not the ledger's (the fast parse refuses it), yet it reads as the time it says
    assert fast.set_index("id").loc[payment_id, "recorded_at"] == pd.Timestamp(stored[:19])
    with pytest.raises(ValueError):
        context._stored_times(pd.Series([stored[:19].replace(" ", "T")], dtype=object))


def test_a_month_without_records_reads_as_the_row_by_row_read(demo_ledger):
    fast, reference = month_reads(demo_ledger, "2001-01")
    assert fast.empty
    pd.testing.assert_frame_equal(fast, reference)
