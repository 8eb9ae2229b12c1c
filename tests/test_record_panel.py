"""The explorer's record form, driven in plain pytest: the same rules as `vosbench record`, then post or queue."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, TEAM, ledger_from_text

from vosbench.ledger import tables
from vosbench.ledger.policy import from_mapping
from vosbench.ui.explore_panel import PaymentExplorer

RULES = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00", "bonus": "1000.00"}}})


@pytest.fixture
def explorer(tmp_path):
    explorer = PaymentExplorer(ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM),
                               export_dir=tmp_path / "exports")
    explorer.record.settings = RULES
    return explorer


def _fill(form, **values) -> None:
    for name, value in values.items():
        getattr(form, name).value = value


def _text(widget) -> str:
    return html.unescape(widget.value)


def _payments(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.payments.c.kind, tables.payments.c.amount,
                                            tables.payments.c.operator, tables.payments.c.channel)).all()


def test_below_the_threshold_it_posts_and_shows_in_the_results(explorer):
    form = explorer.record
    assert "C1 — Acme Trading (customer)" in form.account.options
    _fill(form, account="C1 — Acme Trading (customer)", amount="250.00", method="cash", operator="ann",
          reference="counter 7")
    form.submit_button.click()
    assert "Posted as payment 1." in _text(form.status)
    assert _payments(explorer.engine) == [("deposit", 2_500_000, "ann", "admin")]
    assert form.amount.value == "" and explorer.current_page.total_count == 1


def test_above_the_threshold_it_waits_and_the_queue_shows_it(explorer):
    form = explorer.record
    _fill(form, kind="bonus", account="C1", amount="5000", channel="automatic", operator="ann")
    assert form.submit() is True
    assert "Waiting for approval: request 1 (at or above the USD bonus threshold 1,000.00)" in _text(form.status)
    assert _payments(explorer.engine) == [] and explorer.approvals.pending["request_id"].tolist() == [1]
    explorer.approvals.checker.value = "bob"
    explorer.approvals.approve_button.click()
    assert _payments(explorer.engine) == [("bonus", 50_000_000, "ann", "automatic")]


@pytest.mark.parametrize("values, refusal", [
    ({"account": "C1", "amount": "10", "operator": "nobody"}, "operator 'nobody' is not registered"),
    ({"account": "C1", "amount": "10", "operator": "bob", "kind": "adjustment"},
     "adjustment needs a reason and a link"),
    ({"account": "C1", "amount": "ten", "operator": "ann"}, "amount"),
    ({"account": "Acme Trading", "amount": "10", "operator": "ann"}, "'Acme Trading' is unknown"),  # two share it
    ({"account": "C1, C2", "amount": "10", "operator": "ann"}, "give exactly one account"),
])
def test_refusals_are_messages_and_nothing_is_written(explorer, values, refusal):
    _fill(explorer.record, **values)
    assert explorer.record.submit() is False
    assert "Not recorded" in _text(explorer.record.status) and refusal in _text(explorer.record.status)
    assert _payments(explorer.engine) == []


def test_a_ledger_held_by_another_writer_is_said_busy_and_the_entry_can_be_sent_again(tmp_path, monkeypatch):
    """The database's own error, said as the commands say it (it showed as "OperationalError: … [SQL: …]")."""
    import sqlite3

    from vosbench.ledger import database

    ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM).dispose()
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)  # the connections the explorer opens wait 0.2 s, not 30
    explorer = PaymentExplorer.open(db_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}", remember=False,
                                    export_dir=str(tmp_path / "exports"))
    explorer.record.settings = RULES
    _fill(explorer.record, account="C1", amount="250.00", operator="ann")
    other_writer = sqlite3.connect(tmp_path / "ledger.sqlite", isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        assert explorer.record.submit() is False
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    said = _text(explorer.record.status)
    assert "Not recorded: the ledger is busy: another command" in said and "[SQL:" not in said
    assert _payments(explorer.engine) == [] and explorer.record.amount.value == "250.00"  # nothing lost
    assert explorer.record.submit() is True and _payments(explorer.engine) == [("deposit", 2_500_000, "ann", "admin")]
