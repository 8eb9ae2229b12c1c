"""Verification against an anchor: what a receipt, a workbook or a pack saw must still be held and extended.

The forger (tests/forger.py) rewrites records and rebuilds every chain and total, so
that a plain `verify` passes; only the heads kept outside the ledger — and, against a
forger without the key, the HMAC of the receipts inside it — show what was done.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from forger import rebuild
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files
from tamper_sql import behind_guards

from vosbench.commands import main
from vosbench.ledger import hashchain, setup, verification
from vosbench.ledger.hashchain import fingerprint_frame

KEY = "an-auditor-key-kept-elsewhere-0123456789"
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-09-20T10:00:00Z,ann,admin,cash
    p3,C1,deposit,25.00,2026-09-25T10:00:00Z,bob,admin,cash
    p4,C2,withdrawal,-5.00,2026-09-26T10:00:00Z,bob,admin,cash
    p5,C1,deposit,7.00,2026-09-27T10:00:00Z,bob,admin,cash
"""
LATER = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p6,C1,deposit,1.00,2026-10-05T10:00:00Z,ann,admin,cash
    p7,C2,deposit,2.00,2026-10-06T10:00:00Z,ann,admin,cash
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def closed(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A ledger whose September is closed with a keyed receipt, with October records after it; and a workbook anchor."""
    folder = tmp_path_factory.mktemp("closed")
    engine = ledger_from_text(folder, accounts=ACCOUNTS, payments=PAYMENTS)
    with engine.connect() as connection:
        fingerprint = hashchain.fingerprint(connection)
    engine.dispose()
    workbook = folder / "audit.xlsx"
    with pd.ExcelWriter(workbook, engine="openpyxl") as writer:  # the audit's Fingerprint sheet, as it writes it
        fingerprint_frame(fingerprint).to_excel(writer, sheet_name="Fingerprint", index=False)
    db = f"sqlite:///{folder / 'ledger.sqlite'}"
    receipt = folder / "close-2026-09.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOSBENCH_ANCHOR_KEY", KEY)
        assert main.main(["close", "--month", "2026-09", "--by", "sue", "--db", db, "--receipt", str(receipt)]) == 0
    engine = setup.open_ledger(db)
    from vosbench.sources import csv_import

    csv_import.import_paths(engine, [write_ledger_files(folder / "later", payments=LATER)])
    engine.dispose()
    return folder / "ledger.sqlite", receipt, workbook


@pytest.fixture
def ledger(closed, tmp_path) -> tuple[str, Path, Path]:
    path, receipt, workbook = closed
    shutil.copy(path, tmp_path / "ledger.sqlite")
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}", receipt, workbook


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("VOSBENCH_ANCHOR_KEY", KEY)


def test_the_ledger_extends_its_receipt_and_its_workbook(capsys, ledger, key):
    db, receipt, workbook = ledger
    for anchor in (receipt, workbook):
        code, out = run(capsys, "verify", "--db", db, "--anchor", str(anchor))
        assert code == 0, out
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt), "--since-anchor")
    assert code == 0 and "NOT CHECKED month totals" in out
    receipt_heads = json.loads(receipt.read_text())["heads"]
    assert receipt_heads["payments"] == {"rows": 5, "last_id": 5, "head": receipt_heads["payments"]["head"]}
    assert json.loads(receipt.read_text())["closings"] == {"C1": 1320000, "C2": 350000}


# (kind of change, SQL run before the forger rebuilds every chain and total, what verify --anchor names)
REBUILT = [
    ("last payments deleted, chain heads and totals fixed", ["DELETE FROM payments WHERE id >= 4"],
     "close-2026-09.json saw 5 rows, the ledger holds 3"),
    ("amount edited, every later hash recomputed", ["UPDATE payments SET amount = 9990000 WHERE id = 2"],
     "payments: row 5 (id 5) now ends the chain"),
    ("last row replaced and recomputed", ["UPDATE payments SET reference = 'other', operator = 'zed' WHERE id = 5"],
     "payments: row 5 (id 5) now ends the chain"),
    ("two account numbers swapped, links rebuilt",
     ["UPDATE accounts SET account = 'TMP' WHERE account = 'C1'", "UPDATE accounts SET account = 'C1' WHERE account = 'C2'",
      "UPDATE accounts SET account = 'C2' WHERE account = 'TMP'"], "accounts: row 4 (id 4) now ends the chain"),
    ("account's parent changed, links rebuilt", ["UPDATE accounts SET parent_id = 1 WHERE account = 'C1'"],
     "accounts: row 4 (id 4) now ends the chain"),
    ("import batch's file renamed, links rebuilt", ["UPDATE import_batches SET file_name = 'x' WHERE id = 1"],
     "import_batches: row 2 (id 2) now ends the chain"),
    ("payment moved to another account, totals recomputed", ["UPDATE payments SET account_id = 4 WHERE id = 1"],
     "payments: row 5 (id 5) now ends the chain"),
]


@pytest.mark.parametrize("kind, statements, expected", REBUILT, ids=[case[0] for case in REBUILT])
def test_a_rebuilt_history_is_caught_by_the_receipt_and_the_workbook(capsys, ledger, key, kind, statements, expected):
    db, receipt, workbook = ledger
    path = db.removeprefix("sqlite:///")
    rebuild(path, *statements)  # the close record inside the ledger is left as it was
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt))
    assert code == 1 and expected in out, out
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt), "--since-anchor")
    assert code == 1 and expected.split(":")[0] in out, out
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(workbook))
    assert code == 1 and "audit.xlsx saw" in out, out


ERASED_CLOSE = ["DELETE FROM month_closes",  # the close's own row comes after the heads its receipt holds
                "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, "
                "reference, memo, reason, approved_by, source, source_key, hash) SELECT id, 'deposit', 5000000, "
                "'2026-09-28 10:00:00.000000', '2026-10-10 10:00:00.000000', 'ann', 'admin', 'cash', '', '', '', '', "
                "'csv', 'back-dated', '' FROM accounts WHERE account = 'C1'"]


def test_a_close_erased_and_a_record_back_dated_into_its_month_is_caught_by_the_receipt(capsys, ledger, key):
    """The receipt's heads still lead into the rebuilt chains (the erased close and the new record come after them):
    its closings and its close are what show it; a month whose closings moved without a reopen is named too."""
    db, receipt, _workbook = ledger
    rebuild(db.removeprefix("sqlite:///"), *ERASED_CLOSE)
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt))
    assert code == 1 and ("the ledger holds no close of 2026-09 made at " in out and "its close record was removed "
                          "behind the ledger's back, and the closings of 1 account(s) now differ from the receipt: "
                          "C1 132.00 → 632.00") in out, out


def test_closings_moved_under_a_kept_close_are_named_against_the_receipt(capsys, ledger, key):
    db, receipt, _workbook = ledger
    rebuild(db.removeprefix("sqlite:///"), ERASED_CLOSE[1])
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt))
    assert code == 1 and ("the closings of 1 account(s) at the end of 2026-09 differ from this receipt with no reopen "
                          "recorded: C1 132.00 → 632.00; records dated in 2026-09 were changed behind the ledger's "
                          "back") in out, out


def test_without_an_anchor_a_rebuilt_history_passes_plain_verify(capsys, tmp_path):
    """The limit anchors exist for: a chain anyone can recompute proves nothing on its own."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    engine.dispose()
    rebuild(tmp_path / "ledger.sqlite", "UPDATE payments SET amount = 9990000 WHERE id = 2")
    code, out = run(capsys, "verify", "--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    assert code == 0, out


def test_the_close_record_inside_the_ledger_is_an_anchor_too(capsys, ledger):
    db, _receipt, _workbook = ledger
    rebuild(db.removeprefix("sqlite:///"), "UPDATE payments SET amount = 1 WHERE id = 3")
    code, out = run(capsys, "verify", "--db", db)
    assert code == 1 and "month close record 1 (2026-09) saw" in out and "payments: row 5" in out


def test_a_forger_who_rewrites_the_close_record_too_is_caught_by_its_hmac(capsys, ledger, key):
    db, receipt, _workbook = ledger
    path = db.removeprefix("sqlite:///")
    rebuild(path, "UPDATE payments SET amount = 1 WHERE id = 3")
    heads = hashchain_heads(path)
    document = json.loads(receipt.read_text())
    document["heads"]["payments"] = heads["payments"]
    forged = json.dumps(document, sort_keys=True, separators=(",", ":")).replace("'", "''")
    rebuild(path, f"UPDATE month_closes SET receipt = '{forged}' WHERE id = 1")
    code, out = run(capsys, "verify", "--db", db)
    assert code == 1 and "month close record 1 (2026-09): its HMAC does not match" in out, out


def hashchain_heads(path) -> dict:
    engine = setup.open_ledger(f"sqlite:///{path}")
    with engine.connect() as connection:
        heads = hashchain.anchor_heads(connection)
    engine.dispose()
    return heads


def test_without_the_key_a_receipt_file_edited_to_match_is_not_trusted(capsys, ledger, tmp_path, key):
    db, receipt, _workbook = ledger
    document = json.loads(receipt.read_text())
    document["heads"]["payments"]["rows"] = 4
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(edited))
    assert code == 1 and "edited.json: its HMAC does not match" in out


def test_verifying_from_the_anchor_checks_what_came_after(capsys, ledger, key):
    db, receipt, _workbook = ledger
    path = db.removeprefix("sqlite:///")
    behind_guards(path, "UPDATE payments SET amount = 1 WHERE id = 7", tables=("payments",))
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt), "--since-anchor")
    assert code == 1 and "payments row 7 was changed" in out


@pytest.mark.parametrize("text, message", [
    ("not json", "is not JSON"),
    ("{}", "records no chain heads"),
    ('{"kind": "vosbench month close", "heads": {"payments": {"head": "zz", "count": -1}}}',
     "bad.json: its chain head of 'payments' is not as vosbench writes one"),
    ('{"heads": {"payments": {"rows": true, "head": "' + "0" * 64 + '"}}}', "is not as vosbench writes one"),
    ('{"heads": {"payments": {"rows": 1, "head": "' + "0" * 64 + '"}}, "closings": {"C1": 1.5}}',
     "bad.json: its closings are not as vosbench writes them"),
])
def test_a_bad_anchor_is_a_message(capsys, ledger, tmp_path, text, message):
    db, _receipt, _workbook = ledger
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(bad))
    assert code == 2 and message in out


def test_since_anchor_needs_an_anchor(capsys, ledger):
    code, out = run(capsys, "verify", "--db", ledger[0], "--since-anchor")
    assert code == 2 and "--anchor FILE" in out


def test_a_short_key_is_refused(capsys, ledger, monkeypatch):
    monkeypatch.setenv("VOSBENCH_ANCHOR_KEY", "short")
    code, out = run(capsys, "verify", "--db", ledger[0])
    assert code == 2 and "shorter than 16 bytes" in out


def test_one_payment_is_proven_against_the_receipt_with_a_logarithmic_path(capsys, ledger, tmp_path, key):
    db, receipt, _workbook = ledger
    proof = tmp_path / "proof.json"
    code, out = run(capsys, "proof", "--payment", "3", "--anchor", str(receipt), "--db", db, "--out", str(proof))
    assert code == 0, out
    document = json.loads(proof.read_text())
    assert (document["index"], document["size"], len(document["path"])) == (2, 5, 3)  # ceil(log2(5)) hashes
    code, out = run(capsys, "proof", "verify", str(proof), "--anchor", str(receipt))
    assert code == 0 and "payment 3 is record 3 of the 5" in out
    document["values"][3] = 1  # the amount, changed in the proof
    proof.write_text(json.dumps(document))
    code, out = run(capsys, "proof", "verify", str(proof), "--anchor", str(receipt))
    assert code == 1 and "do not hash to its chain link" in out
    code, out = run(capsys, "proof", "--payment", "6", "--anchor", str(receipt), "--db", db)  # appended later
    assert code == 2 and "not among the 5" in out


def test_a_rebuilt_ledger_no_longer_leads_to_the_receipts_root(capsys, ledger, key):
    db, receipt, _workbook = ledger
    rebuild(db.removeprefix("sqlite:///"), "UPDATE payments SET amount = 1 WHERE id = 4")
    code, out = run(capsys, "proof", "--payment", "1", "--anchor", str(receipt), "--db", db)
    assert code == 1 and "no longer lead to the root" in out


def test_a_months_audit_verifies_from_the_last_close_and_recomputes_that_months_totals(ledger):
    db, _receipt, _workbook = ledger
    path = db.removeprefix("sqlite:///")
    # September (closed) and October totals both edited; October's payment 7 edited behind its guards
    behind_guards(path, "UPDATE account_months SET deposit = deposit + 1 WHERE month = '2026-09'",
                  "UPDATE account_months SET deposit = deposit + 1 WHERE month = '2026-10'",
                  "UPDATE payments SET amount = 1 WHERE id = 7", tables=("payments", "account_months"))
    engine = setup.open_ledger(db)
    try:
        audited = verification.verify_month(engine, "2026-10")
        full = verification.verify(engine)
    finally:
        engine.dispose()
    assert [broken.table for broken in audited.breaks] == ["payments"]  # appended after the close: checked
    assert audited.total_mismatches and all("for 2026-10" in line for line in audited.total_mismatches)
    assert any("other than 2026-10" in line for line in audited.not_checked)  # it says what it left out
    assert audited.scope.startswith("journal chains recomputed from month close record") and not full.scope
    assert any("for 2026-09" in line for line in full.total_mismatches)  # the full check still sees September


def test_a_months_audit_rehashes_the_months_own_records_and_every_small_chain_though_they_precede_the_close(ledger):
    """September's records were all appended before September's close: auditing September still re-hashes them."""
    db, _receipt, _workbook = ledger
    path = db.removeprefix("sqlite:///")
    behind_guards(path, "UPDATE payments SET amount = 1 WHERE id = 2",
                  "UPDATE accounts SET parent_id = NULL WHERE account = 'C2'", tables=("payments", "accounts"))
    engine = setup.open_ledger(db)
    try:
        september, october = verification.verify_month(engine, "2026-09"), verification.verify_month(engine, "2026-10")
    finally:
        engine.dispose()
    assert sorted(broken.table for broken in september.breaks) == ["accounts", "payments"]
    assert "row 2" in next(broken.message for broken in september.breaks if broken.table == "payments")
    # October's audit trusts September's journal rows to the close, but never the accounts
    assert [broken.table for broken in october.breaks] == ["accounts"]
    assert "every record dated in 2026-10" in october.scope


@pytest.mark.parametrize("side_by_side", [False, True])
def test_a_months_audit_names_a_time_stored_in_another_form_in_the_span_it_rehashes(ledger, monkeypatch, side_by_side):
    """The stored-time test runs in the read that re-hashes the chain, in this process or in its worker (forced here):
    a record past the close holding its time in another form is named, as the test's own pass named it; one before
    the close is left to `verify`, as before."""
    if side_by_side:
        monkeypatch.setattr(verification, "SIDE_BY_SIDE_ROWS", 0)
    db, _receipt, _workbook = ledger
    behind_guards(db.removeprefix("sqlite:///"), "UPDATE payments SET occurred_at = replace(occurred_at, ' ', 'T') "
                  "WHERE id IN (3, 7)", tables=("payments",))
    engine = setup.open_ledger(db)
    try:
        audited, full = verification.verify_month(engine, "2026-10"), verification.verify(engine)
    finally:
        engine.dispose()
    timed = [(problem.table, problem.row_id) for problem in audited.problems if problem.check == "stored times"]
    assert timed == [("payments", 7)] and not audited.breaks  # the same instant: the chain holds
    assert [problem.row_id for problem in full.problems if problem.check == "stored times"] == [3, 7]


def test_a_months_audit_tests_kept_totals_for_non_integers_from_the_month_or_the_last_close_on(ledger):
    """September is closed: October's audit looks for totals kept as non-integers in October (and later), where its
    figures come from; a non-integer written into closed September's totals is named by the full `verify`, as every
    other change there is, and by an audit of September itself."""
    db, _receipt, _workbook = ledger
    behind_guards(db.removeprefix("sqlite:///"), "UPDATE account_months SET bonus = 0.5",
                  "UPDATE payment_rollup SET amount = amount + 0.5", tables=("account_months", "payment_rollup"))
    engine = setup.open_ledger(db)
    try:
        october, september = verification.verify_month(engine, "2026-10"), verification.verify_month(engine, "2026-09")
        full = verification.verify(engine)
    finally:
        engine.dispose()

    def named(found: verification.Verification, table: str) -> list[str]:
        return [problem.message for problem in found.problems if problem.check == "money totals" and problem.table == table]

    assert named(october, "account_months") and all("2026-10" in line for line in named(october, "account_months"))
    assert named(october, "payment_rollup") and not any("2026-09" in line for line in named(october, "payment_rollup"))
    assert any("from 2026-10 on are tested for non-integers" in line for line in october.not_checked)
    assert any("2026-09" in line for line in named(september, "account_months"))
    assert any("2026-09" in line for line in named(full, "account_months"))
    assert any("2026-10" in line for line in named(full, "account_months"))


def test_a_closed_months_closing_changed_is_named_by_the_next_months_audit(ledger):
    """What a month's audit reads of a closed month is its closings (the openings): recomputing the month from them,
    its totals disagree with the kept ones; the full `verify` also names the closed month against its receipt."""
    db, _receipt, _workbook = ledger
    behind_guards(db.removeprefix("sqlite:///"), "UPDATE account_months SET closing = closing + 1 WHERE month = '2026-09'",
                  tables=("account_months",))
    engine = setup.open_ledger(db)
    try:
        october, full = verification.verify_month(engine, "2026-10"), verification.verify(engine)
    finally:
        engine.dispose()
    assert october.total_mismatches and all("for 2026-10" in line for line in october.total_mismatches)
    assert any("2026-09 was closed" in problem.message for problem in full.problems)


@pytest.mark.parametrize("side_by_side", [False, True])
def test_a_months_audit_of_a_ledger_never_closed_rehashes_every_chain_whole_and_recomputes_that_months_totals(
        tmp_path, monkeypatch, side_by_side):
    """No close to start from: every record is re-hashed (an old one edited is named), but only the audited month's
    totals are recomputed, as after a close; the other months' totals and the explore rollups are left to `verify`.
    The same when the chains are re-hashed side by side, each in a process of its own (forced here)."""
    if side_by_side:
        monkeypatch.setattr(verification, "SIDE_BY_SIDE_ROWS", 0)
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS + LATER.split("method", 1)[1])
    engine.dispose()
    path = str(tmp_path / "ledger.sqlite")
    behind_guards(path, "UPDATE account_months SET deposit = deposit + 1 WHERE month = '2026-09'",
                  "UPDATE account_months SET deposit = deposit + 1 WHERE month = '2026-10'",
                  "UPDATE payments SET amount = 1 WHERE id = 2", tables=("payments", "account_months"))
    engine = setup.open_ledger(f"sqlite:///{path}")
    try:
        audited, full = verification.verify_month(engine, "2026-10"), verification.verify(engine)
    finally:
        engine.dispose()
    assert [(broken.table, broken.row_id) for broken in audited.breaks] == [("payments", 2)]  # September's record
    assert audited.total_mismatches and all("for 2026-10" in line for line in audited.total_mismatches)
    assert any("other than 2026-10" in line and "explore rollups" in line for line in audited.not_checked)
    assert audited.scope.startswith("every chain recomputed whole") and audited.extent == "every chain, 2026-10's totals"
    assert any("for 2026-09" in line for line in full.total_mismatches) and not full.scope  # `verify` sees September
