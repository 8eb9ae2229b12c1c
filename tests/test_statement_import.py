"""Statement import: OFX, CAMT.053 v2 and v8, CSV and XLSX through profiles; idempotent, all-or-nothing."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from vosbench.ledger import guards, hashchain, setup, tables
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources.bankfiles import importing, profiles, reading
from vosbench.sources.bankfiles.lines import StatementFileError

SAMPLES = Path(__file__).resolve().parent / "samples" / "statements"


@pytest.fixture(autouse=True, params=["read here", "read ahead"])
def reader(request, monkeypatch):
    """Every import test twice: the file read in the importing process, and by a second process (large files)."""
    if request.param == "read ahead":
        monkeypatch.setattr(reading, "AHEAD_FROM_BYTES", 0)
    return request.param


@pytest.fixture
def engine(tmp_path):
    return setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="Asia/Dubai")


def stored(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.statement_lines).order_by(tables.statement_lines.c.id)).all()


def test_ofx_with_two_statements_reads_every_line_exactly(engine):
    result = importing.import_file(engine, SAMPLES / "bank-two-accounts.ofx")
    assert (result.format, result.channel, result.statements, result.added) == ("ofx", "bank", 2, 4)
    rows = stored(engine)
    assert [(r.statement_account, r.posted_on, r.amount, r.currency) for r in rows] == [
        ("1001234567", date(2026, 10, 5), 15_000_000, "USD"),
        ("1001234567", date(2026, 10, 6), -2_505_000, "USD"),
        ("1001234567", date(2026, 10, 12), 3_000_001, "USD"),  # four places kept exactly
        ("2009876543", date(2026, 10, 20), 750_000, "EUR"),
    ]
    first = rows[0]
    assert (first.value_on, first.reference, first.counterparty, first.description) == (
        date(2026, 10, 4), "FT26278100001", "Acme Trading LLC", "Wire ref. C00001")
    assert rows[2].counterparty == "" and rows[2].value_on is None  # optional fields missing
    assert '"fitid": "FT26278100001"' in first.raw


def test_ofx_dates_are_the_dates_the_bank_wrote_whatever_its_zone(engine, tmp_path):
    # 02:00 in Dubai is 22:00 UTC the day before; 23:30 in New York is 04:30 UTC the day after
    text = (SAMPLES / "bank-two-accounts.ofx").read_text(encoding="ascii").replace(
        "<DTPOSTED>20261005<DTUSER>20261004", "<DTPOSTED>20261005020000.000[+4:GST]<DTUSER>20261004233000[-5:EST]")
    (tmp_path / "zoned.ofx").write_text(text, encoding="ascii")
    importing.import_file(engine, tmp_path / "zoned.ofx")
    first = stored(engine)[0]
    assert (first.posted_on, first.value_on) == (date(2026, 10, 5), date(2026, 10, 4))
    assert '"dtposted": "2026-10-04T22:00:00+00:00"' in first.raw  # the instant, as ofxtools read it


def test_camt_v2_and_v8_read_booked_entries_and_their_parties(engine):
    v2 = importing.import_file(engine, SAMPLES / "bank-v2.xml")
    assert (v2.format, v2.statements, v2.added) == ("camt053.02", 2, 3)  # the pending entry is not a line
    v8 = importing.import_file(engine, SAMPLES / "bank-v8.xml")
    # v8 repeats the v2 statement's first entry (same AcctSvcrRef, same account): not added again
    assert (v8.format, v8.added, v8.skipped) == ("camt053.08", 1, 1)
    rows = {(r.statement_account, r.amount): r for r in stored(engine)}
    credit = rows[("AE070331234567890123456", 15_000_000)]
    assert (credit.posted_on, credit.value_on, credit.counterparty, credit.reference) == (
        date(2026, 10, 5), date(2026, 10, 4), "Acme Trading LLC", "FT26278100001")
    debit = rows[("AE070331234567890123456", -2_505_000)]
    assert debit.posted_on == date(2026, 10, 6) and debit.counterparty == "Blue Sky Telecom"  # DtTm, creditor
    batch = rows[("LOCAL-2009876543", 6_000_000)]
    assert batch.counterparty == "Gulf Pay Services" and "BULK CREDIT" in batch.description
    assert rows[("AE070331234567890123456", 4_200_000)].counterparty == "Nile Voice"  # v8 Pty/Nm


def test_profiles_read_gateway_ivr_and_crypto_exports(engine):
    gateway = importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    ivr = importing.import_file(engine, SAMPLES / "ivr-log.csv", profile="ivr-log")
    crypto = importing.import_file(engine, SAMPLES / "crypto.csv", profile="crypto")
    assert (gateway.added, ivr.added, crypto.added) == (3, 2, 2)  # failed charge and bad PIN skipped
    rows = {r.line_key: r for r in stored(engine)}
    assert rows["id:ch_0001"].amount == 968_000 and rows["id:ch_0001"].account_hint == "C00003"
    assert rows["id:RC100000000003"].amount == 500_000  # decimal comma
    assert rows["id:RC100000000003"].posted_on == date(2026, 10, 7)  # day/month/year
    assert rows["id:feed00beef11"].amount == -1_000_000  # Direction OUT
    assert rows["id:0xabc123def456"].reference == "0xabc123def456"
    no_charge_id = [r for r in rows.values() if r.channel == "gateway" and r.reference == ""]
    assert len(no_charge_id) == 1 and no_charge_id[0].line_key.startswith("h:")


def test_xlsx_export_reads_like_its_csv(engine, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Date", "Value date", "Amount", "Reference", "Counterparty", "Description", "Transaction ID"])
    sheet.append([date(2026, 10, 2), None, 1250.1, "R1", "Acme Trading LLC", "wire", "T1"])
    sheet.append(["2026-10-03", "2026-10-02", "-80.25", "R2", "", "", "T2"])
    path = tmp_path / "bank.xlsx"
    book.save(path)
    result = importing.import_file(engine, path, profile="generic-bank-csv")
    assert (result.format, result.added) == ("xlsx", 2)
    rows = stored(engine)
    assert [(r.posted_on, r.value_on, r.amount) for r in rows] == [
        (date(2026, 10, 2), None, 12_501_000), (date(2026, 10, 3), date(2026, 10, 2), -802_500)]


def test_importing_again_or_a_copy_adds_nothing(engine, tmp_path):
    importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    again = importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    copy = tmp_path / "gateway-copy.csv"
    shutil.copy(SAMPLES / "gateway.csv", copy)
    renamed = importing.import_file(engine, copy, profile="gateway")
    assert (again.added, again.skipped, renamed.added) == (0, 3, 0)
    assert len(stored(engine)) == 3
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.statement_imports)) == 1


def test_identical_lines_without_an_id_stay_distinct(engine, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID\n"
                    "2026-10-02,,20.00,,Cash deposit,,\n2026-10-02,,20.00,,Cash deposit,,\n")
    assert importing.import_file(engine, path, profile="generic-bank-csv").added == 2
    assert importing.import_file(engine, path, profile="generic-bank-csv").added == 0


def test_a_changed_line_under_the_same_id_is_refused(engine, tmp_path):
    importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    changed = tmp_path / "gateway.csv"
    changed.write_text((SAMPLES / "gateway.csv").read_text().replace("96.80", "96.70"))
    with pytest.raises(ImportRejected, match=r"gateway.csv:2: transaction id:ch_0001 of card-gateway is in the ledger "
                                             r"as 96.80 USD and here as 96.70 USD; statement lines are never edited"):
        importing.import_file(engine, changed, profile="gateway")


def test_every_bad_row_is_reported_and_nothing_is_written(engine):
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, SAMPLES / "bank-bad-rows.csv", profile="generic-bank-csv")
    reasons = [(r.line, r.reason) for r in caught.value.rejections]
    assert [line for line, _ in reasons] == [2, 3, 5]
    assert "not a date" in reasons[0][1] and "'abc' is not an amount" in reasons[1][1] and "empty" in reasons[2][1]
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, SAMPLES / "bank-v8-bad-entries.xml")
    assert [r.line for r in caught.value.rejections] == [1, 2]
    assert stored(engine) == []


BANK_CSV_HEADER = "Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID\n"


def test_a_quote_left_open_in_a_csv_export_refuses_the_file_instead_of_swallowing_the_rows_after_it(engine, tmp_path):
    path = tmp_path / "open-quote.csv"
    path.write_text(BANK_CSV_HEADER + '2026-10-02,,20.00,R1,"Nile Voice,Top-up,T1\n'
                    "2026-10-03,,30.00,R2,Acme,Top-up,T2\n2026-10-04,,40.00,R3,Acme,Top-up,T3\n")
    with pytest.raises(StatementFileError, match=r'open-quote.csv: .*line 2.*close the quote'):
        importing.import_file(engine, path, profile="generic-bank-csv")
    path.write_text(BANK_CSV_HEADER + '2026-10-02,,20.00,R1,"Nile "Voice" LLC",Top-up,T1\n')
    with pytest.raises(StatementFileError, match=r"line 2: ',' expected after"):
        importing.import_file(engine, path, profile="generic-bank-csv")
    assert stored(engine) == []


def test_a_bad_row_after_a_cell_spanning_lines_is_named_by_the_line_it_starts_on(engine, tmp_path):
    path = tmp_path / "multi-line.csv"
    path.write_text(BANK_CSV_HEADER + '2026-10-02,,20.00,R1,Acme,"Top-up\nfor October\n(two lines)",T1\n'
                    "2026-10-03,,abc,R2,Acme,Top-up,T2\n")
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, path, profile="generic-bank-csv")
    assert [r.line for r in caught.value.rejections] == [5]


@pytest.mark.parametrize("name, profile, message", [
    ("truncated.ofx", None, "not a valid OFX/QFX file"),
    ("camt052-not-053.xml", None, "namespace says camt.052 but it holds Stmt, not Rpt"),
    ("bank-wrong-columns.csv", "generic-bank-csv", "not a generic-bank-csv export: column"),
    ("gateway.csv", None, "give --profile NAME"),
    ("bank-v8.xml", "gateway", "import it without --profile"),
    ("bank-two-accounts.ofx", "no-such-profile", "no such profile"),
])
def test_a_file_that_is_not_the_format_claimed_is_refused_whole(engine, name, profile, message):
    with pytest.raises((StatementFileError, profiles.ProfileError), match=message):
        importing.import_file(engine, SAMPLES / name, profile=profile)
    assert stored(engine) == []


def test_qfx_reads_as_ofx_and_a_broken_xlsx_is_refused(engine, tmp_path):
    qfx = tmp_path / "bank.qfx"
    shutil.copy(SAMPLES / "bank-two-accounts.ofx", qfx)
    assert importing.import_file(engine, qfx).added == 4
    broken = tmp_path / "gateway.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(StatementFileError, match="gateway.xlsx: not a readable XLSX workbook"):
        importing.import_file(engine, broken, profile="gateway")


def test_ofx_that_is_not_ofx_inside_is_refused(engine, tmp_path):
    path = tmp_path / "fake.ofx"
    path.write_text("Date,Amount\n2026-10-01,5\n")
    with pytest.raises(StatementFileError, match="fake.ofx: not an OFX/QFX file"):
        importing.import_file(engine, path)


def test_every_shipped_profile_is_valid():
    assert profiles.available() == ["bank-outgoing", "crypto", "gateway", "generic-bank-csv", "ivr-log",
                                    "paypal-activity", "stripe-balance"]
    for name in profiles.available():
        assert profiles.load(name).name == name
    assert profiles.load("gateway").fee.fee(1_000_000) == 32_000  # 2.9% of 100.00 + 0.30


@pytest.mark.parametrize("change, message", [
    ({"colums": {}}, "unknown key"),
    ({"fee": {"percent": 2.9}}, "quoted decimal"),
    ({"fee": {"percent": "1e1"}}, "fee.percent '1e1' is not a percentage"),  # never ten per cent
    ({"fee": {"percent": "NaN"}}, "fee.percent 'NaN' is not a percentage"),
    ({"channel": "paypal"}, "unknown value 'paypal'"),
    ({"columns": {"date": "D"}}, "amount"),
    ({"sign": "minus"}, "sign must be"),
    ({"sign_check": {"column": "Impact", "credit_values": ["Credit"]}}, "sign_check is {column: HEADER"),
    ({"sign_check": {"column": "Impact", "credit_values": ["C"], "debit_values": ["c"]}},
     "sign_check: a value cannot be both credit and debit"),
])
def test_a_bad_profile_names_the_key_and_the_fix(change, message):
    good = {"name": "p", "channel": "bank", "columns": {"date": "D", "amount": "A"}, "currency": "USD"}
    with pytest.raises(profiles.ProfileError, match=message):
        profiles.from_mapping({**good, **change})


def test_warnings_are_kept_with_the_import_chained_and_listed(engine, tmp_path):
    from tamper_sql import behind_guards

    from vosbench.analysis.matching import review
    from vosbench.ledger import verification

    text = (SAMPLES / "bank-two-accounts.ofx").read_text(encoding="ascii")
    bent = "\ufeff" + text.replace("<LEDGERBAL><BALAMT>75.00<DTASOF>20261031</LEDGERBAL>", "")
    (tmp_path / "bent.ofx").write_text(bent, encoding="utf-8")
    result = importing.import_file(engine, tmp_path / "bent.ofx")
    assert len(result.warnings) == 2 and result.import_id is not None
    with engine.connect() as connection:
        rows = connection.execute(sa.select(tables.statement_import_warnings)).all()
    assert [(r.import_id, r.warning) for r in rows] == [(result.import_id, w) for w in result.warnings]
    assert "byte-order mark" in rows[0].warning and "no balance (LEDGERBAL)" in rows[1].warning
    listed = importing.imported(engine)
    assert listed[0]["warnings"] == " | ".join(result.warnings)
    run = review.run_month(engine, "2026-10")
    assert run.import_warnings == [("bent.ofx", w) for w in result.warnings]
    # the same file again adds nothing and stores no second copy of its warnings
    again = importing.import_file(engine, tmp_path / "bent.ofx")
    assert again.import_id is None and again.warnings == result.warnings
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.statement_import_warnings)) == 2
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            connection.execute(tables.statement_import_warnings.update().values(warning="all fine"))
    assert verification.verify(engine).ok
    path = engine.url.database
    behind_guards(path, "UPDATE statement_import_warnings SET warning = 'all fine' WHERE id = 2",
                  tables=("statement_import_warnings",))
    checked = verification.verify(engine)
    assert [b.message for b in checked.breaks] == ["statement_import_warnings row 2 was changed after it was recorded (hash mismatch)"]


def test_a_row_with_a_cell_too_many_or_too_few_is_refused_not_read_shifted(engine, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(BANK_CSV_HEADER + "2026-10-02,,20.00,R1,Acme,Top-up,T1\n"
                    "2026-10-03,,1,250.00,R2,Acme,Top-up,T2\n"  # an unquoted thousands comma: every cell after it shifts
                    "2026-10-04,,40.00,R3,Acme,Top-up\n")
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, path, profile="generic-bank-csv")
    assert [(r.line, r.reason) for r in caught.value.rejections] == [
        (3, "8 cells where the header has 7: a cell is missing or a separator sits unquoted inside one"),
        (4, "6 cells where the header has 7: a cell is missing or a separator sits unquoted inside one")]
    assert stored(engine) == []


def test_statement_lines_that_would_add_up_past_the_ledgers_largest_amount_are_refused(engine, tmp_path):
    """Each line fits, their sum does not: every matching total would then overflow, so the file is refused whole."""
    path = tmp_path / "huge.csv"
    path.write_text(BANK_CSV_HEADER + "2026-10-02,,500000000000000.00,R1,Acme,Top-up,T1\n"
                    "2026-10-03,,500000000000000.00,R2,Acme,Top-up,T2\n")
    with pytest.raises(StatementFileError, match="huge.csv: refused: its lines would take the statement lines' "
                                                 "amounts past 922,337,203,685,477.5807 in all"):
        importing.import_file(engine, path, profile="generic-bank-csv")
    assert stored(engine) == []
    path.write_text(BANK_CSV_HEADER + "2026-10-02,,500000000000000.00,R1,Acme,Top-up,T1\n")
    assert importing.import_file(engine, path, profile="generic-bank-csv").added == 1


def triggers(engine) -> dict[str, str]:
    with engine.connect() as connection:
        return guards.present_guards(connection)


def test_an_import_links_its_lines_as_the_chain_trigger_would_and_leaves_every_guard_as_it_was(engine, tmp_path):
    """The lines are appended with the row-chain triggers lifted inside the import's transaction and linked a
    batch at a time: the chain verifies, and replacing a line or its link is refused afterwards as before."""
    before = triggers(engine)
    importing.import_file(engine, SAMPLES / "bank-v8.xml")
    importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    with pytest.raises(ImportRejected):
        importing.import_file(engine, SAMPLES / "bank-bad-rows.csv", profile="generic-bank-csv")
    assert triggers(engine) == before
    with engine.connect() as connection:
        schema = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    assert importing.import_file(engine, SAMPLES / "bank-v8.xml").added == 0
    with engine.connect() as connection:  # a file imported again adds nothing and lifts no trigger
        assert connection.exec_driver_sql("PRAGMA schema_version").scalar_one() == schema
        assert hashchain.verify_row_chain(connection, "statement_lines") is None
        head = connection.execute(sa.select(tables.chain_heads).where(tables.chain_heads.c.name == "statement_lines")).one()
        links = connection.scalar(sa.select(sa.func.count()).select_from(tables.row_links)
                                  .where(tables.row_links.c.table_name == "statement_lines"))
    assert head.row_count == links == len(stored(engine)) == head.last_id
    # the same lines appended one by one through the chain trigger end in the same head
    replayed = setup.open_ledger(f"sqlite:///{tmp_path / 'replayed.sqlite'}", create=True, timezone="Asia/Dubai")
    with engine.connect() as source, replayed.begin() as target:
        target.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for row in source.execute(sa.select(tables.statement_imports).order_by(tables.statement_imports.c.id)):
            target.execute(tables.statement_imports.insert().values(**row._mapping))
        for row in source.execute(sa.select(tables.statement_lines).order_by(tables.statement_lines.c.id)):
            target.execute(tables.statement_lines.insert().values(**row._mapping))
        assert target.execute(sa.select(tables.chain_heads.c.head_hash)
                              .where(tables.chain_heads.c.name == "statement_lines")).scalar_one() == head.head_hash
    path = engine.url.database
    with sqlite3.connect(path) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        for statement, table in [
                ("INSERT OR REPLACE INTO statement_lines SELECT * FROM statement_lines WHERE id = 1", "statement_lines"),
                ("INSERT OR REPLACE INTO row_links SELECT * FROM row_links WHERE table_name = 'statement_lines'",
                 "row_links")]:
            with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
                raw.execute(statement)
    raw.close()


def test_an_import_leaves_a_guard_missing_or_altered_as_it_found_it_for_verify_to_report(engine):
    path = engine.url.database
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TRIGGER statement_lines_no_replace")
        raw.execute("DROP TRIGGER row_links_no_replace")
        raw.execute("CREATE TRIGGER row_links_no_replace BEFORE INSERT ON row_links BEGIN SELECT 1; END")
    raw.close()
    altered = triggers(engine)
    importing.import_file(engine, SAMPLES / "bank-v8.xml")
    assert triggers(engine) == altered and "statement_lines_no_replace" not in altered
    with engine.connect() as connection:
        assert hashchain.verify_row_chain(connection, "statement_lines") is None
