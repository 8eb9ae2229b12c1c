"""CSV import: idempotent, all-or-nothing per file, every bad row reported with file, line, reason."""

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.ledger import tables, verification
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources import csv_import

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses,approved_by
    p1,C1,deposit,100.00,2026-10-01T10:00:00+04:00,alice,admin,bank_wire,BR-1,,,100.00,,
    p2,C1,deposit,25.50,2026-10-02T10:00:00Z,alice,web,gateway,GW-9,,,125.50,,
    p3,C1,deposit,-25.50,2026-10-03T10:00:00Z,bob,admin,gateway,GW-9,,chargeback,100.00,p2,
    p4,A1,commission,3.2100,2026-10-04T00:00:00Z,system,automatic,other,,,,3.21,,
    p5,C2,adjustment,-1.00,2026-10-04T00:00:00Z,bob,admin,other,,,,,,
"""


def counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {name: connection.scalar(sa.select(sa.func.count()).select_from(tables.metadata.tables[name]))
                for name in ("accounts", "payments", "charges", "balance_snapshots", "import_batches")}


def test_import_folder_then_again_adds_nothing(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-10-01,1.2345,0,0,7
    """, balances="""
        account,as_of,balance
        C1,2026-11-01T00:00:00Z,98.7655
    """)
    first = counts(engine)
    assert first == {"accounts": 4, "payments": 5, "charges": 1, "balance_snapshots": 1, "import_batches": 4}
    results = csv_import.import_paths(engine, [tmp_path / "in"])
    assert [(r.file, r.added, r.skipped) for r in results] == [
        ("accounts.csv", 0, 4), ("payments.csv", 0, 5), ("charges.csv", 0, 1), ("balances.csv", 0, 1)]
    assert counts(engine) == first
    assert verification.verify(engine).ok


def test_imported_values_are_exact_and_linked(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    with engine.connect() as connection:
        rows = {r.source_key: r for r in connection.execute(sa.select(tables.payments))}
        parent = connection.scalar(sa.text("SELECT p.account FROM accounts c JOIN accounts p "
                                           "ON p.id = c.parent_id WHERE c.account = 'C1'"))
    assert rows["p1"].occurred_at.isoformat() == "2026-10-01T06:00:00"  # +04:00 stored as UTC
    assert rows["p4"].amount == 32100
    assert rows["p3"].reverses_id == rows["p2"].id
    assert rows["p5"].reason == ""  # imported history is accepted; controls flag it later
    assert parent == "A1"


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    folder = write_ledger_files(tmp_path / "bad", payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses,approved_by
        ok1,C1,deposit,10.00,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        b1,C9,deposit,10.00,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        b2,C1,deposit,ten,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        b3,C1,deposit,10.00,2026-10-01 10:00,alice,admin,cash,,,,,,
        b4,C1,withdrawal,10.00,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        b5,C1,deposit,0,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        ok1,C1,deposit,10.00,2026-10-01T10:00:00Z,alice,admin,cash,,,,,,
        b6,C1,deposit,-10.00,2026-10-02T10:00:00Z,alice,admin,cash,,,,,ok1,
        b7,C1,deposit,-10.00,2026-10-02T10:00:00Z,alice,admin,cash,,,,,ok1,
        b8,C1,deposit,-3.00,2026-10-02T10:00:00Z,alice,admin,cash,,,,,zz,
        b9,C1,commission,3.00,2026-10-02T10:00:00Z,alice,admin,cash,,,,,,
        b10,C1,deposit,3.00,2026-10-02T10:00:00Z,alice,admin,wire,,,,,,
    """)
    with pytest.raises(ImportRejected) as caught:
        csv_import.import_paths(engine, [folder / "payments.csv"])
    reasons = {r.line: r.reason for r in caught.value.rejections}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 10, 11, 12, 13]
    assert "account 'C9' is unknown" in reasons[3]
    assert "'ten' is not a number" in reasons[4]
    assert "no time zone" in reasons[5]
    assert "withdrawal amount must be negative" in reasons[6]
    assert "amount is zero" in reasons[7]
    assert "appears twice in this file" in reasons[8]
    assert "reversed twice" in reasons[10]
    assert "'zz', which is not a record" in reasons[11]
    assert "commission is paid to agent or reseller" in reasons[12]
    assert "method: unknown value 'wire'" in reasons[13]
    assert all(r.file == "payments.csv" for r in caught.value.rejections)
    assert "payments.csv:3:" in str(caught.value) and "nothing from payments.csv was written" in str(caught.value)
    assert counts(engine)["payments"] == 0


def test_changed_row_under_an_existing_key_is_refused(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    folder = write_ledger_files(tmp_path / "again", payments=PAYMENTS.replace("100.00,2026", "100.01,2026"))
    with pytest.raises(ImportRejected, match="already imported with other values"):
        csv_import.import_paths(engine, [folder])
    assert counts(engine)["payments"] == 5


def test_a_record_can_be_reversed_once_across_files(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS)
    folder = write_ledger_files(tmp_path / "more", payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reverses
        p9,C1,deposit,-25.50,2026-10-09T10:00:00Z,bob,admin,gateway,p2
        p10,C1,deposit,-100.00,2026-10-09T10:00:00Z,bob,admin,bank_wire,p1
    """)
    with pytest.raises(ImportRejected) as caught:
        csv_import.import_paths(engine, [folder])
    assert [(r.line, "already reversed" in r.reason) for r in caught.value.rejections] == [(2, True)]


@pytest.mark.parametrize("name, text, message", [
    ("payments", "source_key,account,kind\nk,C1,deposit\n", r"missing column\(s\) amount, occurred_at"),
    ("payments", "source_key,account,kind,amount,occurred_at,operator,channel,method,colour\n",
     r"unknown column\(s\) colour"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-13-01,1,0,0,1\n", "not a date"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,-1,0,0,1\n", "cannot be negative"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,1,0,0,many\n", "not a whole number"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,1,0,0,1_000\n",
     "calls: '1_000' is not a whole number written in plain digits"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,1,0,0,\u0667\n", "is not a whole"),
    ("accounts", "account,name,kind,parent\nX1,Xeno,customer,NOPE\n", "parent 'NOPE' is unknown"),
    ("accounts", "account,name,kind,parent\nX1,Xeno,customer,C1\n", "a parent must be an agent or reseller"),
    ("accounts", "account,name,kind,currency\nX1,Xeno,customer,DOLLARS\n", "three-letter ISO code"),
    ("accounts", "account,name,kind,currency\nX1,Xeno,customer,XAU\n", "currency 'XAU' of account 'X1' is no ISO 4217 currency"),
    ("accounts", "account,name,kind,currency\nX1,Xeno,customer,QQQ\n", "currency 'QQQ' of account 'X1' is no ISO 4217 currency"),
    ("accounts", "account,name,kind\nC1,Renamed,agent\n", "kind and time zone never change"),
    ("accounts", "account,name,kind\nX1,Xeno,vendor\n", "kind: unknown value 'vendor'"),
    # text longer than its column: a server refuses it unnamed, and a SQLite ledger holding it could not be copied
    ("accounts", "account,name,kind\nX1," + "N" * 256 + ",customer\n",
     r"accounts.csv:2: name is 256 characters long; the ledger keeps at most 255 \(as PostgreSQL and MariaDB do\)"),
    ("payments", "source_key,account,kind,amount,occurred_at,operator,channel,method,reference\n"
                 "k1,C1,deposit,7.00,2026-10-01T10:00:00Z,alice,admin,cash," + "R" * 300 + "\n",
     "payments.csv:2: reference is 300 characters long; the ledger keeps at most 255"),
    ("accounts", 'account,name,kind\nX1,"Xeno\nTrading",customer\nX2,Yeti,vendor\n', "accounts.csv:4: kind: unknown value"),
    ("balances", "account,as_of,balance\nC1,2026-10-01T00:00:00Z,1.2.3\n", "not a number"),
    ("payments", "source_key,account,kind,amount,occurred_at,operator,channel,method\n"
                 "k1,C1,deposit,1e3,2026-10-01T10:00:00Z,alice,admin,cash\n", "amount: '1e3' is not a number written as decimal"),
    ("charges", "account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,Infinity,0,0,1\n", "decimal text"),
    ("accounts", 'account,name,kind\nX1,"Xeno,customer\nX2,Yeti,customer\n',
     r'accounts.csv: the quote \("\) opened in the record on line 2 is never closed; close the quote'),
    ("accounts", 'account,name,kind\nX1,"Xeno" Ltd,customer\n', r"line 2: .* double each quote inside a quoted cell"),
    # a cell too few (the reference left out): the memo would be read as the reference and the balance as the memo
    ("payments", "source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,balance_after\n"
                 "k1,C1,deposit,7.00,2026-10-01T10:00:00Z,alice,admin,cash,paid by wire,12.00\n",
     "csv:2: 10 cells where the header has 11: a cell is missing"),
    ("payments", "source_key,account,kind,amount,occurred_at,operator,channel,method\n"
                 "k1,C1,deposit,7.00,2026-10-01T10:00:00Z,alice,admin,cash,extra\n", "csv:2: 9 cells where the header has 8"),
])
def test_bad_files_and_rows_say_what_to_fix(tmp_path, name, text, message):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    before = counts(engine)
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises((ImportRejected, csv_import.ImportFileError), match=message):
        csv_import.import_paths(engine, [path])
    assert counts(engine) == before


def test_files_that_are_not_what_they_claim(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    latin = tmp_path / "accounts.csv"
    latin.write_bytes("account,name,kind\nX1,Caf\xe9,customer\n".encode("latin-1"))
    with pytest.raises(csv_import.ImportFileError, match="not UTF-8"):
        csv_import.import_paths(engine, [latin])
    with pytest.raises(csv_import.ImportFileError, match="unknown file name"):
        csv_import.import_paths(engine, [tmp_path / "in" / "accounts.csv", tmp_path / "ledger.sqlite"])
    with pytest.raises(csv_import.ImportFileError, match="no such file"):
        csv_import.import_paths(engine, [tmp_path / "missing.csv"])


def test_conflicting_charges_for_a_day_are_refused(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-10-01,1.00,0,0,7
    """)
    path = tmp_path / "charges.csv"
    path.write_text("account,day,call_fee,agent_fee,other_fee,calls\nC1,2026-10-01,2.00,0,0,7\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="already recorded with other values"):
        csv_import.import_paths(engine, [path])


def test_a_quote_left_open_refuses_the_file_instead_of_swallowing_the_rows_after_it(tmp_path):
    """A lenient CSV reader would read rows 3 and 4 into row 2's memo and import two rows."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    before = counts(engine)
    path = tmp_path / "payments.csv"
    path.write_text("source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo\n"
                    "1,C1,deposit,10.00,2026-10-02T10:00:00+04:00,alice,admin,cash,R1,a\n"
                    '2,C1,deposit,10.00,2026-10-03T10:00:00+04:00,alice,admin,cash,R2,"oops\n'
                    "3,C1,deposit,10.00,2026-10-04T10:00:00+04:00,alice,admin,cash,R3,b\n"
                    "4,C1,deposit,10.00,2026-10-05T10:00:00+04:00,alice,admin,cash,R4,c\n", encoding="utf-8")
    with pytest.raises(csv_import.ImportFileError) as caught:
        csv_import.import_paths(engine, [path])
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "opened in the record on line 3 is never closed" in message and "close the quote" in message
    assert counts(engine) == before
