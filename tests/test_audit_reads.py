"""The audit's fast reads give exactly what the general reads give (they replaced them for speed at 10M records).

Each fast path is compared with the reference it stands for on a generated ledger, and on
a ledger tampered with where the fast path could go wrong.
"""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text
from tamper_sql import behind_guards

from vosbench.controls import context
from vosbench.core import periods
from vosbench.ledger import queries, setup, tables
from vosbench.outputs import audit
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


# --- the audit's record sections, made from that frame, against their SQL sections ---------------------------------

TWO_CURRENCIES = ACCOUNTS + """    E1,Édith Öztürk,customer,,0,EUR,UTC
    E2,Zed,customer,,0,EUR,UTC
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,reverses,reason
    p1,C1,deposit,6000.00,2026-10-02T10:00:00Z,ann,web,card,W-1,,
    p2,C2,deposit,6000.00,2026-10-03T10:00:00Z,ann,admin,cash,,,
    p3,C2,deposit,-6000.00,2026-10-04T10:00:00Z,bob,admin,cash,,p2,entered twice
    p4,E1,deposit,9000.00,2026-10-05T10:00:00Z,ivr,ivr,recharge_card,RC-9,,
    p5,E2,withdrawal,-9000.00,2026-10-31T23:59:59Z,bob,admin,bank_wire,,,
    p6,E2,deposit,9000.00,2026-10-06T10:00:00Z,bob,admin,bank_wire,,,
    p7,A1,commission,12.3456,2026-10-31T21:00:00Z,sys,api,other,,,
    p8,C1,deposit,10.00,2026-11-01T00:00:00Z,ann,web,card,,,
"""


def sections_both_ways(engine, month: str, zone: str, top_n: int, threshold: int):
    """(name, from the frame, from SQL) of each record section of ``month`` cut in ``zone``."""
    with engine.connect() as connection:
        period = periods.month(month, zone)
        records = context.month_payments(connection, period)
        currencies = sorted(connection.scalars(sa.select(tables.accounts.c.currency).distinct()))
        made = audit._record_sections(records, currencies, top_n, threshold, zone)
        reference = audit._scoped_record_sections(connection, period, top_n, threshold, ())
    return [(name, made[name], reference[name]) for name in reference]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Dubai", "America/Sao_Paulo"])
def test_the_record_sections_from_the_month_frame_are_the_sql_sections(demo_ledger, zone):
    engine = setup.open_ledger(f"sqlite:///{demo_ledger}")
    for name, made, reference in sections_both_ways(engine, SCALE.end_month, zone, top_n=10, threshold=1_000_0000):
        assert len(reference) > 1, name
        pd.testing.assert_frame_equal(made, reference, obj=name)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Dubai"])
def test_the_record_sections_agree_on_ties_reversals_missing_texts_and_two_currencies(tmp_path, zone):
    engine = ledger_from_text(tmp_path, accounts=TWO_CURRENCIES, payments=PAYMENTS)
    found = {name: (made, reference) for name, made, reference in sections_both_ways(engine, "2026-10", zone, 1, 50_000_000)}
    for name, (made, reference) in found.items():
        pd.testing.assert_frame_equal(made, reference, obj=name)
    top, _ = found["top_accounts"]
    # E1 and E2 took 9000 in each, C1 and C2 6000: the account number decides (EUR first)
    assert top["account"].tolist() == ["E1", "C1"]
    large, _ = found["large_payments"]
    # 9000 either way thrice (by id), then the 6000s; p5 is November in Dubai
    assert large["payment_id"].tolist()[:3] == ([4, 5, 6] if zone == "UTC" else [4, 6, 1])
    assert large.set_index("payment_id").loc[3, "reverses"] == 2


def test_a_currency_without_records_and_no_payment_that_large_type_the_sections_as_sql_does(tmp_path):
    """A query finding nothing gives a frame typed its own way (no text to infer text columns from): where the
    SQL sections hold such a result, the sections made from the frame hold the same, to the dtype."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS + "    E1,Edith,customer,,0,EUR,UTC\n",
                              payments=PAYMENTS.split("p4,")[0])
    for name, made, reference in sections_both_ways(engine, "2026-10", "UTC", 10, 1_000_000_0000):
        pd.testing.assert_frame_equal(made, reference, obj=name)
    assert made.empty  # the large payments, none


def test_the_audit_computes_its_record_sections_from_the_frame_as_sql_would(demo_ledger):
    engine = setup.open_ledger(f"sqlite:///{demo_ledger}")
    result = audit.MonthlyAudit.compute(engine, SCALE.end_month, large_payment_threshold="100.00", top_n=5)
    assert result.controls is not None and len(result.large_payments) > 1
    with engine.connect() as connection:
        reference = audit._scoped_record_sections(connection, result.period, 5, 100_0000, ())
    for name, frame in reference.items():
        pd.testing.assert_frame_equal(getattr(result, name), frame, obj=name)
