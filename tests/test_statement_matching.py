"""Matching a month: each rule on a small ledger written inline, decisions on top, find-payment.

The ledger (Asia/Dubai) and its bank statement are written out below so a reader can see
which line should meet which record and why.
"""

from __future__ import annotations

import textwrap

import pytest

from vosbench.analysis.matching import decisions, find_payment, review
from vosbench.analysis.matching.matcher import Settings
from vosbench.core.errors import VosbenchError
from vosbench.ledger import identity
from vosbench.sources.bankfiles import importing

ACCOUNTS = """
    account,name,kind
    C00001,Acme Trading LLC,customer
    C00002,Acme Tradding LLC,customer
    C00003,Blue Sky Telecom,customer
    C00004,Nile Voice,customer
    C00005,Desert Calls,customer
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,method,reference
    p1,C00001,deposit,1500.00,2026-10-04T10:00:00+04:00,bank_wire,FT001
    p2,C00003,withdrawal,-250.50,2026-10-06T09:00:00+04:00,bank_wire,FT002
    p3,C00004,deposit,420.00,2026-10-20T16:00:00+04:00,bank_wire,
    p4,C00003,deposit,350.00,2026-10-14T11:00:00+04:00,bank_wire,
    p5,C00005,deposit,250.00,2026-10-14T12:00:00+04:00,bank_wire,
    p6,C00002,deposit,800.00,2026-10-10T10:00:00+04:00,bank_wire,FT-NEVER-ARRIVED
    p7,C00002,deposit,900.00,2026-10-16T10:00:00+04:00,bank_wire,FT006
    p8,C00005,deposit,1100.00,2026-10-22T10:00:00+04:00,bank_wire,FT007
    p9,C00003,deposit,100.00,2026-10-03T18:22:10+04:00,gateway,ch_0001
    p10,C00004,deposit,40.00,2026-10-11T13:01:00+04:00,gateway,
    p11,C00004,deposit,75.00,2026-10-12T13:01:00+04:00,cash,RCPT-1
    p12,C00001,deposit,300.00,2026-09-30T23:30:00+04:00,bank_wire,FT-SEPT
    p13,C00003,deposit,512.00,2026-10-25T10:00:00+04:00,bank_wire,
"""
BANK = """\
    Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID
    2026-10-05,2026-10-04,1500.00,FT001,Acme Trading LLC,Wire ref. C00001,T1
    2026-10-06,,-250.50,FT002,Blue Sky Telecom,Refund,T2
    2026-10-21,,420.00,,Nile Voice,,T3
    2026-10-15,,600.00,,Gulf Pay Services,BULK CREDIT,T4
    2026-10-12,,300.0001,FT005,Unknown Sender,,T5
    2026-10-16,,900.00,FT006,Acme Trading LLC,Wire ref. C00001,T6
    2026-10-22,,1000.00,FT007,Desert Calls,,T7
    2026-10-01,,300.00,FT-SEPT,Acme Trading LLC,,T8
    2026-10-25,,312.00,,Blue Sky Telecom,part 1,T9
    2026-10-26,,200.00,,Blue Sky Telecom,part 2,T10
"""
GATEWAY = """\
    created_utc,charge_id,customer_account,card_holder,currency,gross,fee,net,status,description
    2026-10-03 14:22:10,ch_0001,C00003,B SKY,USD,100.00,3.20,96.80,succeeded,Portal top-up
    2026-10-11 09:01:00,,C00004,N VOICE,USD,40.00,1.46,38.54,succeeded,Virtual terminal
"""


@pytest.fixture
def ledger(inline_ledger, tmp_path):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    for login, role in (("auditor1", "auditor"), ("auditor2", "auditor"), ("a", "clerk"), ("b", "supervisor"),
                        ("res.one", "reseller:C00001")):
        identity.register(engine, login, role)
    for name, text, profile in (("bank.csv", BANK, "generic-bank-csv"), ("gateway.csv", GATEWAY, "gateway")):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        importing.import_file(engine, path, profile=profile)
    return engine


def payment_id(engine, source_key: str) -> int:
    import sqlalchemy as sa

    from vosbench.ledger import tables

    with engine.connect() as connection:
        return connection.scalar(sa.select(tables.payments.c.id).where(tables.payments.c.source_key == source_key))


def line_id(engine, key: str) -> int:
    import sqlalchemy as sa

    from vosbench.ledger import tables

    with engine.connect() as connection:
        return connection.scalar(sa.select(tables.statement_lines.c.id).where(tables.statement_lines.c.line_key == f"id:{key}"))


def outcome(engine, run) -> dict:
    """payment source keys (or line keys when unpaired) → (status, rule)."""
    import sqlalchemy as sa

    from vosbench.ledger import tables

    with engine.connect() as connection:
        keys = dict(connection.execute(sa.select(tables.payments.c.id, tables.payments.c.source_key)).all())
        lines = dict(connection.execute(sa.select(tables.statement_lines.c.id, tables.statement_lines.c.line_key)).all())
    found = {}
    for group in run.groups:
        name = "+".join(sorted(keys[p.id] for p in group.payments)) or "+".join(lines[l.id] for l in group.lines)
        found[name] = (group.status, group.rule)
    return found


def test_each_rule_and_each_result(ledger):
    run = review.run_month(ledger, "2026-10")
    assert run.channels == ["bank", "gateway"]
    assert outcome(ledger, run) == {
        "p1": ("matched", "reference"),
        "p2": ("matched", "reference"),  # a withdrawal meets its debit
        "p3": ("matched", "amount_date"),  # no reference: same amount a day later
        "p4+p5": ("matched", "batch"),  # one credit of 600.00 pays 350.00 + 250.00
        "id:T5": ("no_payment_record", ""),  # money arrived, nobody recorded it
        "p6": ("no_money", ""),  # recorded, never arrived
        "p7": ("wrong_account", "reference"),  # Acme Trading paid, recorded on its near-twin C00002
        "p8": ("amount_difference", "reference"),
        "p9": ("matched", "reference"),  # net of the gateway fee
        "p10": ("matched", "fee"),  # no charge id: 40.00 less 2.9% + 0.30
        "p12": ("matched", "reference"),  # paid the 30th of September, credited the 1st: in the window
        "p13": ("matched", "split"),  # 512.00 arrived as 312.00 + 200.00
    }  # p11 is cash: no statement covers it
    items = run.items()
    fee = items[items["payment_ids"] == str(payment_id(ledger, "p9"))].iloc[0]
    assert (fee["statement_amount"], fee["recorded_amount"], fee["difference"]) == (968_000, 1_000_000, -32_000)
    assert "less the source's fee" in fee["explanation"]
    wrong = items[items["status"] == "wrong_account"].iloc[0]
    assert "names C00001 'Acme Trading LLC'" in wrong["explanation"] and wrong["accounts"] == "C00002"
    summary = run.summary().set_index("status")
    assert summary.loc["matched", "items"] == 8 and summary.loc["no_money", "recorded_amount"] == 8_000_000


def test_a_narrower_window_leaves_the_late_credit_unmatched(ledger):
    run = review.run_month(ledger, "2026-10", settings=Settings(window_days=0))
    found = outcome(ledger, run)
    assert found["p3"] == ("no_money", "") and found["id:T3"] == ("no_payment_record", "")


def test_decisions_are_applied_on_top_and_survive_reruns(ledger):
    line_t3, p3 = line_id(ledger, "T3"), payment_id(ledger, "p3")
    decisions.record(ledger, "reject", line_ids=[line_t3], payment_ids=[p3], decided_by="auditor1",
                     note="the 420.00 is from another Nile Voice")
    found = outcome(ledger, review.run_month(ledger, "2026-10"))
    assert found["p3"] == ("no_money", "") and found["id:T3"] == ("no_payment_record", "")
    line_t5, p6 = line_id(ledger, "T5"), payment_id(ledger, "p6")
    decisions.record(ledger, "match", line_ids=f"{line_t5}", payment_ids=f"{p6}", decided_by="auditor1")
    decisions.record(ledger, "confirm", line_ids=[line_id(ledger, "T6")], payment_ids=[payment_id(ledger, "p7")],
                     decided_by="auditor2", note="customer asked to credit the twin account")
    for _ in range(2):  # the matcher's results are recomputed; decisions stay
        run = review.run_month(ledger, "2026-10")
        found = outcome(ledger, run)
        assert found["p6"] == ("amount_difference", "manual")
        assert found["p7"] == ("matched", "confirmed")
        assert found["p3"] == ("no_money", "")
    items = run.items()
    assert items[items["rule"] == "manual"].iloc[0]["decision"] == "matched by hand by auditor1"
    history = decisions.history(ledger)
    assert list(history["action"]) == ["reject", "match", "confirm"]
    assert list(history["decided_by"]) == ["auditor1", "auditor1", "auditor2"]


def test_a_later_decision_on_the_same_pairing_wins(ledger):
    line_t3, p3 = line_id(ledger, "T3"), payment_id(ledger, "p3")
    decisions.record(ledger, "reject", line_ids=[line_t3], payment_ids=[p3], decided_by="a")
    decisions.record(ledger, "confirm", line_ids=[line_t3], payment_ids=[p3], decided_by="b")
    assert outcome(ledger, review.run_month(ledger, "2026-10"))["p3"] == ("matched", "confirmed")


def test_decisions_are_append_only(ledger):
    import sqlalchemy as sa

    from vosbench.ledger import tables

    decisions.record(ledger, "reject", line_ids=[line_id(ledger, "T3")], payment_ids=[payment_id(ledger, "p3")],
                     decided_by="a")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with ledger.begin() as connection:
            connection.execute(tables.match_decisions.update().values(decided_by="someone else"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with ledger.begin() as connection:
            connection.execute(tables.statement_lines.delete())


@pytest.mark.parametrize("kwargs, message", [
    (dict(action="approve", line_ids=[1], payment_ids=[1], decided_by="a"), "not one of"),
    (dict(action="reject", line_ids=[1], payment_ids=[1], decided_by=" "), r"say who decides pairings \(--by"),
    (dict(action="reject", line_ids=[1], payment_ids=[1], decided_by="zed"), r"'zed' is not registered \(known: a, "),
    (dict(action="reject", line_ids=[1], payment_ids=[1], decided_by="res.one"), "is a reseller:C00001; only a "),
    (dict(action="match", line_ids=[], payment_ids=[1], decided_by="a"), "at least one statement line"),
    (dict(action="match", line_ids=[999], payment_ids=[1], decided_by="a"), "statement line 999 does not exist"),
    (dict(action="match", line_ids="1,x", payment_ids=[1], decided_by="a"), "not a list of ids"),
])
def test_a_bad_decision_is_refused_with_the_fix(ledger, kwargs, message):
    action = kwargs.pop("action")
    with pytest.raises(VosbenchError, match=message):  # a DecisionError, or an IdentityError for who decides
        decisions.record(ledger, action, **kwargs)
    assert decisions.history(ledger).empty


def test_find_payment_ranks_the_line_and_the_record(ledger):
    found = find_payment.find_payment(ledger, "420.00", "2026-10-20", name="Nile Voice")
    top = found.head(2)
    assert set(top["found_in"]) == {"statement line", "payment record"}
    assert list(top["amount"]) == [4_200_000, 4_200_000]
    by_reference = find_payment.find_payment(ledger, "1000.00", "2026-10-01", reference="FT007", days=2)
    assert by_reference.iloc[0]["reference"] == "FT007"  # far in date and 10% off in amount, but the reference
    assert "reference equal" in by_reference.iloc[0]["why"]
    assert find_payment.find_payment(ledger, "5.00", "2026-01-01").empty
    with pytest.raises(ValueError, match="not a date"):
        find_payment.find_payment(ledger, "5.00", "01/10/2026")


@pytest.mark.parametrize("rule", ["reference", "amount_date", "batch"])
def test_a_line_never_pairs_with_a_record_in_another_currency(rule):
    from vosbench.analysis.matching.matcher import Line, Payment, match

    reference = "FT-42" if rule == "reference" else ""
    line = Line(1, "bank", 740_000, 1_000_000, reference=reference, currency="EUR")
    records = ([Payment(1, "bank", 740_000, 400_000, "C1", currency="USD"),
                Payment(2, "bank", 740_000, 600_000, "C2", currency="USD")] if rule == "batch"
               else [Payment(1, "bank", 740_000, 1_000_000, "C1", reference=reference, currency="USD")])

    groups = match([line], records)

    assert {g.status for g in groups} == {"no_payment_record", "no_money"}
    same_currency = [Payment(p.id, p.channel, p.day, p.amount, p.account, reference=p.reference, currency="EUR")
                     for p in records]
    assert [g.rule for g in match([line], same_currency)] == [rule]


def test_a_hand_match_across_the_window_is_shown_whole_in_either_month(ledger):
    line_t7, p12 = line_id(ledger, "T7"), payment_id(ledger, "p12")  # credited 2026-10-22; recorded 2026-09-30
    decisions.record(ledger, "reject", line_ids=[line_id(ledger, "T8")], payment_ids=[p12], decided_by="b")
    decisions.record(ledger, "match", line_ids=[line_t7], payment_ids=[p12], decided_by="b")
    for month in ("2026-09", "2026-10"):
        group = next(g for g in review.run_month(ledger, month).groups if p12 in {p.id for p in g.payments})
        assert ([line.id for line in group.lines], group.status, group.rule) == ([line_t7], "amount_difference", "manual")


def test_a_record_no_statement_covers_cannot_be_paired_by_hand(ledger):
    with pytest.raises(decisions.DecisionError, match=r"could never apply: payment record \d+ was paid by cash, "
                                                      "which no statement covers"):
        decisions.record(ledger, "match", line_ids=[line_id(ledger, "T5")], payment_ids=[payment_id(ledger, "p11")],
                         decided_by="b")


def test_money_in_is_never_paired_by_hand_with_money_out(ledger):
    with pytest.raises(decisions.DecisionError, match="could never apply: the statement lines and the payment records "
                                                      r"move money in opposite directions"):
        decisions.record(ledger, "match", line_ids=[line_id(ledger, "T5")], payment_ids=[payment_id(ledger, "p2")],
                         decided_by="b")  # a 300.0001 credit with the -250.50 withdrawal that has its own debit T2
    assert decisions.history(ledger).empty


def test_match_names_a_decision_an_earlier_one_keeps_from_applying(ledger, capsys):
    """A ledger may hold two decisions on one record from before such a decision was refused: `match` names it."""
    from datetime import datetime

    from vosbench.commands.main import main
    from vosbench.ledger import tables

    line_t3, line_t5, p3 = line_id(ledger, "T3"), line_id(ledger, "T5"), payment_id(ledger, "p3")
    with ledger.begin() as connection:  # as an earlier vosbench wrote them, unchecked
        for action, line, who in (("confirm", line_t3, "a"), ("match", line_t5, "b")):
            connection.execute(tables.match_decisions.insert().values(
                action=action, line_ids=str(line), payment_ids=str(p3), decided_by=who, note="",
                decided_at=datetime(2026, 11, 2, 9, 0)))
    run = review.run_month(ledger, "2026-10")
    assert [(d.decision_id, clash.decision_id) for d, clash in run.unapplied] == [(2, 1)]
    assert main(["match", "--month", "2026-10", "--db", str(ledger.url)]) == 0
    assert (f"not applied: decision 2 (match of lines {line_t5} with payment records {p3}, by b), because decision 1 "
            f"(confirm of lines {line_t3} with payment records {p3}, by a) holds the same items; withdraw it with "
            f"`vosbench decide reject --lines {line_t5} --payments {p3}`") in capsys.readouterr().out


def test_a_decision_row_written_behind_vosbench_is_left_out_and_named_not_stopping_every_match(ledger, capsys):
    """An insider's plain SQL appends decisions vosbench never writes (the table is append-only: they stay). Before,
    `vosbench match` exited 2 for every login ("line ids: 'abc' is not a list of ids"), and an unknown action with
    real ids was applied as a pairing matched by hand."""
    import json
    import sqlite3

    from vosbench.commands.main import main
    from vosbench.ledger import hashchain, verification

    line_t3, p3 = line_id(ledger, "T3"), payment_id(ledger, "p3")
    with sqlite3.connect(ledger.url.database) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        for action, lines, payments in (("zzz", "abc", "999999"), ("zzz", str(line_t3), str(p3)),
                                        ("confirm", str(line_t3), "")):
            raw.execute("insert into match_decisions (action, line_ids, payment_ids, decided_by, decided_at, note) "
                        "values (?, ?, ?, 'auditor1', '2020-01-01 00:00:00.000000', '')", (action, lines, payments))
    run = review.run_month(ledger, "2026-10")
    assert [(row.decision_id, row.decided_by) for row in run.unreadable] == [(1, "auditor1"), (2, "auditor1"),
                                                                            (3, "auditor1")]
    assert [row.problem for row in run.unreadable] == [
        "its action 'zzz' is not one of confirm, reject, match; its statement line ids 'abc' are not a list of ids "
        "such as 12,13", "its action 'zzz' is not one of confirm, reject, match", "it names no payment record"]
    assert outcome(ledger, run)["p3"] == ("matched", "amount_date")  # the matcher's own pairing, not the row's
    from vosbench.outputs import matching_section

    sheet = matching_section.tables(run, "October 2026")[0]  # the audit's sheet names them in its title
    assert "; decision 1 (by auditor1, 2020-01-01 00:00:00.000000) cannot be read" in sheet.title
    url = str(ledger.url)
    assert main(["match", "--month", "2026-10", "--db", url]) == 0
    said = capsys.readouterr().out
    assert ("warning: decision 1 (by auditor1, 2020-01-01 00:00:00.000000) cannot be read and is left out of "
            "matching: its action 'zzz'") in said and "warning: decision 3 " in said
    assert main(["match", "--month", "2026-10", "--format", "json", "--db", url]) == 0
    assert len(json.loads(capsys.readouterr().out)["unreadable_decisions"]) == 3
    assert main(["match", "--month", "2026-10", "--format", "csv", "--db", url]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("status,") and captured.err.count("warning: decision") == 3
    found = verification.verify(ledger)
    assert [(p.check, p.row_id) for p in found.problems] == [("match decisions", 1), ("match decisions", 2),
                                                             ("match decisions", 3)]
    assert "its statement line ids 'abc'" in found.problems[0].message
    # deciding goes on: the rows left out hold nothing a new decision could clash with
    decisions.record(ledger, "reject", line_ids=[line_t3], payment_ids=[p3], decided_by="auditor2")
    assert outcome(ledger, review.run_month(ledger, "2026-10"))["p3"] == ("no_money", "")
