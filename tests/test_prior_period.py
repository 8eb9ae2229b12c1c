"""A sync of history bringing a payment for a closed month: posted in the first open month and flagged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ledger_text import ACCOUNTS, ledger_from_text
from tamper_sql import behind_guards

from vosbench.commands import main
from vosbench.controls import runner
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import month_close, tables
from vosbench.ledger.write_door import ImportRejected, NewPayment, append_batch

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-10-03T10:00:00Z,ann,admin,cash
"""
LATE = datetime(2026, 9, 20, 8, 30)


def _late(key: str = "v77", at: datetime = LATE) -> list[NewPayment]:
    return [NewPayment(key, "C1", Kind.DEPOSIT, 250_000, at, "web", Channel.WEB, Method.CARD, reference="VOS-77")]


@pytest.fixture
def engine(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    month_close.close(engine, "2026-09", by="sue", at=datetime(2026, 10, 2))
    yield engine
    engine.dispose()


def _month_rows(engine, month: str) -> dict:
    with engine.connect() as connection:
        return {row.account_id: (row.deposit, row.payment_count) for row in connection.execute(
            tables.account_months.select().where(tables.account_months.c.month == month))}


def test_a_history_sync_posts_a_closed_months_payment_in_the_first_open_month(engine):
    september = _month_rows(engine, "2026-09")
    with pytest.raises(ImportRejected, match="2026-09 is closed"):
        append_batch(engine, "payments", _late(), source="vos", file="e_payhistory")
    result = append_batch(engine, "payments", _late(), source="vos", file="e_payhistory", history=True)
    assert result.added == 1
    assert _month_rows(engine, "2026-09") == september  # the closed month's figures stand
    with engine.connect() as connection:
        posted = connection.execute(tables.payments.select().where(tables.payments.c.id == result.ids[0])).one()
        item = connection.execute(tables.prior_period_items.select()).one()
    assert posted.occurred_at == datetime(2026, 10, 1)
    assert (item.payment_id, item.occurred_at, item.closed_month, item.posted_month) == (
        result.ids[0], LATE, "2026-09", "2026-10")
    again = append_batch(engine, "payments", _late(), source="vos", file="e_payhistory", history=True)
    assert (again.added, again.skipped) == (0, 1)  # the same sync again adds nothing
    found = [finding for finding in runner.run(engine, "2026-10").findings if finding.check == "prior_period_item"]
    assert len(found) == 1 and found[0].payment_ids == (result.ids[0],)
    assert "dated 2026-09-20 08:30:00 +00:00, in 2026-09" in found[0].explanation
    assert "posted in 2026-10 as a prior-period item" in found[0].explanation
    assert not [f for f in runner.run(engine, "2026-09").findings if f.check == "prior_period_item"]


def test_it_skips_every_closed_month_to_the_first_open_one(engine):
    month_close.close(engine, "2026-10", by="sue", at=datetime(2026, 11, 2))
    result = append_batch(engine, "payments", _late(), source="vos", file="e_payhistory", history=True)
    with engine.connect() as connection:
        assert connection.execute(tables.prior_period_items.select()).one().posted_month == "2026-11"
        assert connection.scalar(tables.payments.select().with_only_columns(tables.payments.c.occurred_at)
                                 .where(tables.payments.c.id == result.ids[0])) == datetime(2026, 11, 1)


def test_a_payment_dated_before_the_first_closed_month_is_posted_after_the_last_one(engine):
    # August was never closed, but a record there would change September's opening, and September's close stands
    august = datetime(2026, 8, 20, 8, 30)
    month_close.close(engine, "2026-10", by="sue", at=datetime(2026, 11, 2))
    with pytest.raises(ImportRejected, match="2026-08 lies before 2026-10, which is closed"):
        append_batch(engine, "payments", _late(at=august), source="vos", file="e_payhistory")
    result = append_batch(engine, "payments", _late(at=august), source="vos", file="e_payhistory", history=True)
    with engine.connect() as connection:
        item = connection.execute(tables.prior_period_items.select()).one()
        assert (item.occurred_at, item.closed_month, item.posted_month) == (august, "2026-08", "2026-11")
        assert connection.scalar(tables.payments.select().with_only_columns(tables.payments.c.occurred_at)
                                 .where(tables.payments.c.id == result.ids[0])) == datetime(2026, 11, 1)


def test_a_prior_period_item_edited_behind_the_guards_is_named_by_verify(engine, tmp_path, capsys):
    append_batch(engine, "payments", _late(), source="vos", file="e_payhistory", history=True)
    engine.dispose()
    path = tmp_path / "ledger.sqlite"
    assert main.main(["verify", "--db", f"sqlite:///{path}"]) == 0
    behind_guards(path, "UPDATE prior_period_items SET occurred_at = '2026-10-20 08:30:00.000000'",
                  tables=("prior_period_items",))
    capsys.readouterr()
    assert main.main(["verify", "--db", f"sqlite:///{path}"]) == 1
    assert "prior_period_items row 1 was changed" in capsys.readouterr().out


def test_records_an_open_month_takes_are_not_moved(engine):
    result = append_batch(engine, "payments", _late("v78", datetime(2026, 10, 9, tzinfo=UTC).replace(tzinfo=None)),
                          source="vos", file="e_payhistory", history=True)
    with engine.connect() as connection:
        assert connection.execute(tables.prior_period_items.select()).all() == []
        assert connection.scalar(tables.payments.select().with_only_columns(tables.payments.c.occurred_at)
                                 .where(tables.payments.c.id == result.ids[0])) == datetime(2026, 10, 9)
