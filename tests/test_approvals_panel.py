"""The pending-approvals queue of the explorer, driven in plain pytest: set values, click, read the state."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, TEAM, ledger_from_text

from vosbench.ledger import approvals, tables
from vosbench.ledger.policy import from_mapping
from vosbench.ui.explore_panel import PaymentExplorer
from vosbench.ui.panel.approvals import ApprovalQueue

RULES = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00"}}})
AT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM)
    for amount in ("12000.00", "15000.0001"):
        approvals.submit(engine, RULES, account="C1", kind="deposit", amount=amount, operator="ann",
                         occurred_at=AT, method="bank_wire", reference=f"FT-{amount}")
    return engine


def posted(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.payments.c.amount, tables.payments.c.operator,
                                            tables.payments.c.approved_by)).all()


def text(widget) -> str:
    return html.unescape(widget.value)


def test_the_queue_lists_pending_requests_with_exact_amounts(engine):
    queue = ApprovalQueue(engine)
    assert queue.pending["request_id"].tolist() == [1, 2]
    assert "15,000.0001 USD" in text(queue.table) and "12,000.00 USD" in text(queue.table)
    assert queue.request.value == 1 and [value for _, value in queue.request.options] == [1, 2]


def test_an_entry_waiting_because_its_currency_has_no_threshold_says_none_is_set(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS.rstrip() + "\n    P1,Warsaw Trading,customer,A1,0,PLN,UTC",
                              operators=TEAM)
    approvals.submit(engine, RULES, account="P1", kind="deposit", amount="1.00", operator="ann", occurred_at=AT)
    assert "<td>1.00 PLN</td><td>none set</td>" in ApprovalQueue(engine).table.value


def test_approve_posts_the_entry_and_the_request_leaves_the_queue(engine):
    queue = ApprovalQueue(engine)
    queue.request.value, queue.checker.value = 2, "bob"
    queue.approve_button.click()
    assert posted(engine) == [(150_000_001, "ann", "bob")]
    assert queue.pending["request_id"].tolist() == [1] and queue.request.value == 1
    assert "Request 2 approved by bob; posted as payment" in text(queue.status)


def test_the_maker_approving_their_own_request_is_refused_in_the_panel(engine):
    queue = ApprovalQueue(engine)
    queue.checker.value = "ann"
    assert queue.approve() is False
    assert "vosbench-error" in queue.status.value and "a different operator must approve it" in text(queue.status)
    assert posted(engine) == [] and queue.pending["request_id"].tolist() == [1, 2]


def test_reject_needs_a_reason_then_records_it(engine):
    queue = ApprovalQueue(engine)
    queue.checker.value = "bob"
    queue.reject_button.click()
    assert "a rejection needs a reason" in text(queue.status) and len(approvals.requests(engine)) == 2
    queue.reason.value = "not on the bank statement"
    queue.reject_button.click()
    decided = approvals.requests(engine, pending_only=False).set_index("request_id")
    assert (decided.loc[1, "status"], decided.loc[1, "decision_reason"]) == ("rejected", "not on the bank statement")
    assert posted(engine) == [] and queue.reason.value == "" and queue.pending["request_id"].tolist() == [2]


def test_a_request_decided_elsewhere_is_refused_then_gone_after_refresh(engine):
    queue = ApprovalQueue(engine)
    approvals.reject(engine, 1, checker="cy", reason="duplicate")  # another checker, another window
    queue.checker.value = "bob"
    assert queue.approve() is False and "already rejected by cy" in text(queue.status)
    queue.refresh_button.click()
    assert queue.pending["request_id"].tolist() == [2]


def test_no_checker_and_an_empty_queue_are_messages_not_crashes(engine):
    queue = ApprovalQueue(engine)
    queue.approve_button.click()
    assert "operator is required" in text(queue.status)
    for request_id in (1, 2):
        approvals.reject(engine, request_id, checker="cy", reason="duplicate")
    queue.refresh()
    assert queue.request.value is None and "No entries are waiting" in text(queue.table)
    queue.checker.value = "bob"
    assert queue.approve() is False and "no request is chosen" in text(queue.status)


def test_the_explorer_shows_the_queue_below_its_sections(engine, tmp_path):
    explorer = PaymentExplorer(engine, export_dir=tmp_path / "exports")
    assert explorer.approvals.layout in explorer.widget.children
    assert explorer.approvals.pending["request_id"].tolist() == [1, 2]
    before = explorer.current_page.total_count
    explorer.approvals.request.value, explorer.approvals.checker.value = 1, "bob"
    explorer.approvals.approve_button.click()
    assert explorer.approvals.pending["request_id"].tolist() == [2]
    assert explorer.current_page.total_count == before + 1  # the explorer queried again: the posted entry is listed
    assert "FT-12000.00" in explorer.current_page.rows["reference"].tolist()
