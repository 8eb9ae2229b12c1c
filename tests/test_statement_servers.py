"""Statement imports on every database: the same bytes keep the same lines, and imports at the same moment both end well.

PostgreSQL refuses a NUL character in any text, where SQLite and MariaDB keep it: a damaged
export must import the same way on all three. Two imports of one file at the same moment
on a server both read that the ledger lacks its lines; the one that commits second is
refused by the unique key and must read again and find them present, not end the batch.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from db_servers import fresh_database

from vosbench.ledger import setup, tables
from vosbench.sources.bankfiles import importing

HEADER = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
          "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")


def ofx(transactions: str) -> str:
    return HEADER + ("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1"
                     "<ACCTID>NUL1<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001<DTEND>20261031"
                     f"{transactions}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>")


def lines(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(
            tables.statement_lines.c.line_key, tables.statement_lines.c.amount, tables.statement_lines.c.counterparty,
            tables.statement_lines.c.description).order_by(tables.statement_lines.c.line_key)).all()


def test_nul_characters_are_taken_out_alike_on_every_database(any_ledger_url, tmp_path):
    engine = setup.open_ledger(any_ledger_url, create=True, timezone="UTC")
    path = tmp_path / "nul.ofx"
    path.write_bytes(ofx("<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261003<TRNAMT>25.00<FITID>N\x001<NAME>Big\x00Payer"
                         "<MEMO>C00001\x00 top-up</STMTTRN>").encode("ascii"))
    result = importing.import_file(engine, path)
    assert result.added == 1
    assert "NUL characters (0x00) taken out of counterparty, description, line_key" in result.warnings[-1]
    assert [tuple(row) for row in lines(engine)] == [("fitid:N1", 250_000, "BigPayer", "C00001 top-up")]
    assert importing.import_file(engine, path).outcome == "unchanged"  # the same bytes again: the same line


def test_two_imports_of_one_file_at_the_same_moment_on_postgresql_both_end_well(postgresql, tmp_path):
    engine = setup.open_ledger(fresh_database(postgresql), create=True, timezone="UTC")
    path = tmp_path / "many.ofx"
    path.write_text(ofx("".join(f"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>202610{1 + n % 28:02d}<TRNAMT>{n + 1}.00"
                                f"<FITID>B{n}<NAME>Payer {n}</STMTTRN>\n" for n in range(6000))))
    start, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        start.wait()
        try:
            results.append(importing.import_file(engine, path))
        except Exception as error:  # the test's answer: any error here is the defect
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.outcome for result in results) == ["imported", "unchanged"]
    stored = lines(engine)
    assert len(stored) == 6000 and sum(row.amount for row in stored) == sum(range(1, 6001)) * 10_000


def test_a_file_the_database_refuses_is_reported_and_the_next_files_are_still_tried(postgresql, tmp_path, capsys):
    """A login that may not append statement lines (an auditor's): each file gets its line, a summary closes."""
    from team_ledger import as_login, build

    from vosbench.commands import main
    from vosbench.ledger import identity

    url = build(fresh_database(postgresql), tmp_path / "in")
    identity.register(setup.open_ledger(url), "audrey", "auditor", name="Audrey", password="team-secret")
    first, second = tmp_path / "a.ofx", tmp_path / "b.ofx"
    first.write_text(ofx("<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261003<TRNAMT>25.00<FITID>A1</STMTTRN>"))
    second.write_text(ofx("<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261004<TRNAMT>30.00<FITID>B1</STMTTRN>"))
    code = main.main(["statements", "import", str(first), str(second), "--db", as_login(url, "audrey")])
    out, err = capsys.readouterr()
    assert code == 2
    assert [line.split(": refused: ")[0] for line in err.splitlines() if ": refused: " in line] == ["a.ofx", "b.ofx"]
    assert "the ledger's database refused it (" in err and "nothing of it was written" in err
    assert out.splitlines()[-1] == "2 file(s): 0 imported, 0 unchanged, 2 refused"


def test_only_a_unique_key_already_present_reads_as_another_writers_row(any_ledger_url):
    """The import reads a file again only when its lines' key is present (a concurrent import), on every database."""
    import pytest

    from vosbench.ledger import database

    engine = setup.open_ledger(any_ledger_url, create=True, timezone="UTC")
    with engine.connect() as connection:
        for values, duplicate in (({"key": "timezone", "value": "UTC"}, True), ({"key": "x", "value": None}, False)):
            with pytest.raises(sa.exc.IntegrityError) as caught, connection.begin():
                connection.execute(tables.ledger_meta.insert().values(**values))
            assert database.is_duplicate_key(caught.value) is duplicate, caught.value


def test_a_guard_refusing_the_lines_is_reported_as_the_databases_reason_at_once(tmp_path, capsys):
    from vosbench.commands import main

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = setup.open_ledger(url, create=True, timezone="UTC")
    with engine.begin() as connection:  # a guard of the operator's own, refusing every new line
        connection.exec_driver_sql("CREATE TRIGGER lines_closed BEFORE INSERT ON statement_lines "
                                   "BEGIN SELECT RAISE(ABORT, 'statement lines are closed for the audit'); END")
    path = tmp_path / "a.ofx"
    path.write_text(ofx("<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261003<TRNAMT>25.00<FITID>A1</STMTTRN>"))
    assert main.main(["statements", "import", str(path), "--db", url]) == 2
    err = capsys.readouterr().err
    assert "a.ofx: refused: the ledger's database refused it (statement lines are closed for the audit)" in err
    assert "another import" not in err and lines(engine) == []
