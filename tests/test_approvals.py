"""Maker-checker: entries above their threshold wait for a different operator; everything is kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, TEAM, ledger_from_text

from vosbench.commands import main
from vosbench.controls import runner
from vosbench.core.money import UNIT
from vosbench.ledger import approvals, month_close, tables, verification
from vosbench.ledger.policy import from_mapping

RULES = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00", "adjustment": "500.00"}}})
AT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    return ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM)


def payments(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.payments).order_by(tables.payments.c.id)).all()


def test_below_the_threshold_the_entry_is_recorded_at_once(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="9999.99", operator="ann",
                            occurred_at=AT, method="bank_wire")
    assert done.status == "recorded" and [(p.id, p.amount) for p in payments(engine)] == [(done.id, 99_999_900)]


def test_above_the_threshold_it_waits_and_posts_only_when_another_operator_approves(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="12000.00", operator="ann",
                            occurred_at=AT, method="bank_wire", reference="FT1")
    assert done.status == "pending" and payments(engine) == []
    queue = approvals.requests(engine)
    assert queue[["request_id", "maker", "amount", "threshold", "status"]].values.tolist() == [
        [done.id, "ann", 12_000 * UNIT, 10_000 * UNIT, "pending"]]
    with pytest.raises(approvals.ApprovalError, match="a different operator must approve"):
        approvals.approve(engine, done.id, checker="ann")
    payment_id = approvals.approve(engine, done.id, checker="bob")
    (posted,) = payments(engine)
    assert (posted.id, posted.operator, posted.approved_by, posted.amount) == (payment_id, "ann", "bob", 12_000 * UNIT)
    assert posted.occurred_at == AT.replace(tzinfo=None)
    assert approvals.requests(engine).empty
    decided = approvals.requests(engine, pending_only=False)
    assert decided[["status", "checker", "payment_id"]].values.tolist() == [["approved", "bob", payment_id]]
    with pytest.raises(approvals.ApprovalError, match="already approved by bob"):
        approvals.reject(engine, done.id, checker="cy", reason="late")
    assert runner.run(engine, "2026-10", RULES, ["unapproved_above_threshold"]).findings == []


def test_a_failure_writing_the_decision_leaves_neither_the_record_nor_the_decision(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="12000.00", operator="ann",
                            occurred_at=AT)
    with engine.begin() as connection:  # the database refuses the decision, as a full disk or lost lock would
        connection.exec_driver_sql("CREATE TRIGGER decision_fails BEFORE INSERT ON approval_decisions "
                                   "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(sa.exc.DatabaseError, match="disk I/O error"):
        approvals.approve(engine, done.id, checker="bob")
    assert payments(engine) == []
    assert approvals.requests(engine)["request_id"].tolist() == [done.id]
    found = verification.verify(engine)  # a foreign trigger on a guarded table is reported, nothing else
    assert [problem.message for problem in found.problems if "decision_fails" in problem.message]
    assert not found.breaks and not found.total_mismatches  # the chain head and totals rolled back with the record
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER decision_fails")
    assert verification.verify(engine).ok
    payment_id = approvals.approve(engine, done.id, checker="bob")
    assert [p.id for p in payments(engine)] == [payment_id] and verification.verify(engine).ok


def test_a_rejection_keeps_the_reason_and_posts_nothing(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000", operator="ann", occurred_at=AT)
    for shows_nothing in (" ", "\u200b", "\u3000\u2060"):  # a zero-width or ideographic space explains nothing
        with pytest.raises(approvals.ApprovalError, match="needs a reason"):
            approvals.reject(engine, done.id, checker="bob", reason=shows_nothing)
    approvals.reject(engine, done.id, checker="bob", reason="not on the bank statement")
    assert payments(engine) == []
    row = approvals.requests(engine, pending_only=False).iloc[0]
    assert (row["status"], row["decision_reason"]) == ("rejected", "not on the bank statement")


def test_a_reversal_or_a_reopening_whose_reason_shows_nothing_is_refused(engine):
    payment = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20", operator="ann", occurred_at=AT)
    with pytest.raises(approvals.ApprovalError, match="a reversal needs a reason"):
        approvals.submit_reversal(engine, RULES, payment.id, reason="\u200b", operator="ann")
    month_close.close(engine, "2026-10", by="bob", second="cy", at=datetime(2026, 11, 2))
    with pytest.raises(month_close.CloseError, match="say why the month is reopened"):
        month_close.reopen(engine, "2026-10", by="bob", second="cy", reason="\ufeff\u00a0")
    assert len(payments(engine)) == 1


def test_requests_and_decisions_are_append_only(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000", operator="ann", occurred_at=AT)
    approvals.reject(engine, done.id, checker="bob", reason="duplicate")
    for table in (tables.approval_requests, tables.approval_decisions):
        with engine.begin() as connection, pytest.raises(sa.exc.DatabaseError, match="append-only"):
            connection.execute(table.delete())


@pytest.mark.parametrize("entry, message", [
    (dict(kind="adjustment", amount="5", reason="goodwill"), "needs a reason and a link"),
    (dict(kind="adjustment", amount="5"), "adjustment needs a reason"),
    (dict(kind="deposit", amount="-20000"), "must raise the balance"),
    (dict(kind="deposit", amount="1", account="ZZ"), "account 'ZZ' is unknown"),
])
def test_entry_rules_refuse_with_the_fix(engine, entry, message):
    entry = {"account": "C1", "operator": "ann", "occurred_at": AT, **entry}
    with pytest.raises(approvals.ApprovalError, match=message):
        approvals.submit(engine, RULES, **entry)
    assert payments(engine) == [] and approvals.requests(engine).empty


def test_an_adjustment_with_a_ticket_link_is_recorded(engine):
    done = approvals.submit(engine, RULES, account="C1", kind="adjustment", amount="-5", operator="ann",
                            occurred_at=AT, reason="rate correction", reference="ticket #48213")
    assert done.status == "recorded"


def run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_end_to_end(engine, capsys, tmp_path):
    db = ["--db", str(engine.url)]
    code, out, _ = run(capsys, "record", *db, "--account", "C1", "--kind", "deposit", "--amount", "15000",
                       "--operator", "ann", "--method", "bank_wire", "--at", "2026-10-05T10:00:00Z")
    assert code == 0 and "pending approval: request 1" in out
    code, out, _ = run(capsys, "approvals", *db, "list")
    assert code == 0 and "15000.0000" in out and "pending" in out
    code, _, err = run(capsys, "approvals", *db, "approve", "1", "--operator", "ann")
    assert code == 2 and "different operator" in err
    code, out, _ = run(capsys, "approvals", *db, "approve", "1", "--operator", "bob")
    assert code == 0 and "recorded payment 1" in out
    code, out, _ = run(capsys, "record", *db, "--account", "C2", "--kind", "adjustment", "--amount", "3",
                       "--operator", "ann", "--reason", "goodwill", "--at", "2026-10-06T10:00:00Z")
    assert code == 2
    # the adjustment without a link was refused at entry; imported, it is accepted and flagged:
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "payments.csv").write_text(
        "source_key,account,kind,amount,occurred_at,operator,channel,method,reason\n"
        "x1,C2,adjustment,3.00,2026-10-06T10:00:00Z,ann,admin,other,goodwill\n", encoding="utf-8")
    assert run(capsys, "import", *db, str(tmp_path / "more"))[0] == 0
    code, out, _ = run(capsys, "controls", *db, "--month", "2026-10", "--format", "json")
    rows = {row["check"]: row for row in json.loads(out)["rows"]}
    # the deposit was asked for today but dated 2026-10-05: the dating check names it beside the adjustment
    assert sorted(rows) == ["adjustment_without_reason_or_link", "back_dated_entry"]
    finding = rows["adjustment_without_reason_or_link"]
    assert code == 0 and finding["status"] == "open" and rows["back_dated_entry"]["payment_ids"] == "1"
    assert run(capsys, "controls", *db, "--month", "2026-10", "--fail-on", "medium")[0] == 1
    code, _, err = run(capsys, "findings", *db, "annotate", finding["finding_id"], "--month", "2026-10",
                       "--status", "explained", "--note", "ticket #1 found in the helpdesk", "--by", "ann")
    assert code == 2 and "operator ann is a clerk; only an auditor or a supervisor annotates findings" in err
    code, out, _ = run(capsys, "findings", *db, "annotate", finding["finding_id"], "--month", "2026-10",
                       "--status", "explained", "--note", "ticket #1 found in the helpdesk", "--by", "bob")
    assert code == 0
    code, out, _ = run(capsys, "controls", *db, "--month", "2026-10")
    assert code == 0 and "explained" in out and "adjustment_without_reason_or_link" in out
    assert run(capsys, "controls", *db, "--month", "2026-10", "--fail-on", "medium")[0] == 1  # the dating: open
    assert run(capsys, "findings", *db, "annotate", rows["back_dated_entry"]["finding_id"], "--month", "2026-10",
               "--status", "explained", "--note", "the wire's bank advice reached the desk late", "--by", "bob")[0] == 0
    assert run(capsys, "controls", *db, "--month", "2026-10", "--fail-on", "medium")[0] == 0


@pytest.mark.parametrize("controls", ['approval_thresholds:\n  USD: {deposit: "999999999999.00"}\n',
                                      'approval_thresholds:\n  USD: {deposit: "50000.00", bonus: "1.00"}\n'])
def test_a_controls_file_that_raises_a_threshold_is_refused_on_a_write(engine, capsys, tmp_path, controls):
    (tmp_path / "mine.yaml").write_text(controls, encoding="utf-8")
    db = ["--db", str(engine.url), "--controls", str(tmp_path / "mine.yaml")]
    code, out, err = run(capsys, "record", *db, "--account", "C1", "--kind", "deposit", "--amount", "50000",
                         "--operator", "ann", "--method", "bank_wire", "--at", "2026-10-05T10:00:00Z")
    assert (code, out) == (2, "") and payments(engine) == [] and approvals.requests(engine).empty
    assert "the controls file's USD deposit threshold" in err and "is above the ledger's 10,000.00" in err
    assert "a controls file may only lower them: lower it or leave --controls out" in err


def test_a_controls_file_cannot_remove_a_threshold_only_lower_one(engine, capsys, tmp_path):
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    (tmp_path / "strict.yaml").write_text('approval_thresholds:\n  USD: {deposit: "100.00"}\n', encoding="utf-8")
    entry = ["--db", str(engine.url), "--account", "C1", "--kind", "deposit", "--operator", "ann", "--method",
             "bank_wire", "--at", "2026-10-05T10:00:00Z"]
    code, out, _ = run(capsys, "record", *entry, "--amount", "50000", "--controls", str(tmp_path / "empty.yaml"))
    assert (code, out.split(" (")[0]) == (0, "pending approval: request 1") and payments(engine) == []
    code, out, _ = run(capsys, "record", *entry, "--amount", "150", "--controls", str(tmp_path / "strict.yaml"))
    assert (code, out.split(" (")[0]) == (0, "pending approval: request 2") and payments(engine) == []
    code, out, _ = run(capsys, "record", *entry, "--amount", "150")
    assert (code, out.strip()) == (0, "recorded payment 1")
    code, out, _ = run(capsys, "reverse", "1", "--db", str(engine.url), "--reason", "twice", "--operator", "ann",
                       "--controls", str(tmp_path / "strict.yaml"))
    assert (code, out.split(" (")[0]) == (0, "pending approval: request 3")


def test_a_deposit_an_undecided_request_holds_is_refused_until_it_is_decided(engine):
    """Two people entering one wire, or one clicking twice: the second entry is refused while the first waits."""
    strict = from_mapping({"approval_thresholds": {"USD": {"deposit": "5000.00"}}})
    first = approvals.submit(engine, strict, account="C1", kind="deposit", amount="9000.00", operator="ann",
                             occurred_at=AT, method="bank_wire", reference="FT7")
    assert first.status == "pending"
    for settings, operator in ((strict, "alice"), (strict, "ann"), (RULES, "alice")):  # RULES: would post at once
        with pytest.raises(approvals.ApprovalError) as refused:
            approvals.submit(engine, settings, account="C1", kind="deposit", amount="9000.00", operator=operator,
                             occurred_at=AT, method="bank_wire", reference=" FT7 ")
        assert str(refused.value).startswith(f"request {first.id} (ann, ") and str(refused.value).endswith(
            f"already waits for approval of 9,000.00 to C1 with reference 'FT7'; a supervisor approves it "
            f"(`vosbench approvals approve {first.id} --operator NAME`) or rejects it (`vosbench approvals reject "
            f"{first.id} --operator NAME --reason TEXT`) before another is entered")
    assert list(approvals.requests(engine)["request_id"]) == [first.id] and payments(engine) == []
    # another reference, amount or account is another payment
    for account, amount, reference in (("C1", "9000.00", "FT8"), ("C1", "9000.01", "FT7"), ("C2", "9000.00", "FT7")):
        assert approvals.submit(engine, strict, account=account, kind="deposit", amount=amount, operator="alice",
                                occurred_at=AT, method="bank_wire", reference=reference).status == "pending"
    # without a reference the memo is the key; with neither, nothing names the payment and it passes
    memo = dict(account="C1", kind="deposit", amount="15000.00", operator="ann", occurred_at=AT,
                memo="proposed from statement line 9")
    held = approvals.submit(engine, RULES, **memo)
    with pytest.raises(approvals.ApprovalError, match=f"request {held.id} .* with memo 'proposed from statement line 9'"):
        approvals.submit(engine, RULES, **memo)
    bare = dict(account="C1", kind="deposit", amount="16000.00", operator="ann", occurred_at=AT)
    assert approvals.submit(engine, RULES, **bare).status == approvals.submit(engine, RULES, **bare).status == "pending"
    # once decided, the deposit may be entered again (a rejected one was wrong; an approved one is a new wire)
    approvals.reject(engine, first.id, checker="bob", reason="wrong amount")
    again = approvals.submit(engine, strict, account="C1", kind="deposit", amount="9000.00", operator="alice",
                             occurred_at=AT, method="bank_wire", reference="FT7")
    assert again.status == "pending" and again.id != first.id
