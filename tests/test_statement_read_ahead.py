"""A large statement file is read by a second process while the importing one appends its lines.

The lines are appended under the import's id before its record is written; a file that
turns out bad after that must still leave nothing behind, and the chains must verify.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa

from vosbench.ledger import setup, tables
from vosbench.ledger.verification import verify
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources.bankfiles import importing, reading
from vosbench.sources.bankfiles.lines import StatementFileError

HEADER = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD"
          "<BANKACCTFROM><BANKID>121000248<ACCTID>1001234567</BANKACCTFROM><BANKTRANLIST>"
          "<DTSTART>20261001<DTEND>20261031\n")
END = "</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20261031</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"


def transaction(number: int, amount: str = "") -> str:
    return (f"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>202610{number % 28 + 1:02d}"
            f"<TRNAMT>{amount or f'{number}.25'}<FITID>FT{number:06d}<NAME>Payer {number}</STMTTRN>\n")


@pytest.fixture(autouse=True)
def read_ahead(monkeypatch):
    monkeypatch.setattr(reading, "AHEAD_FROM_BYTES", 0)
    monkeypatch.setattr(reading, "BATCH_LINES", 100)  # many batches: lines are appended before the file ends


@pytest.fixture
def engine(tmp_path):
    return setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="UTC")


def counts(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return tuple(connection.scalar(sa.select(sa.func.count()).select_from(table))
                     for table in (tables.statement_imports, tables.statement_lines))


def write(path: Path, *parts: str) -> Path:
    path.write_text(HEADER + "".join(parts) + END, encoding="ascii")
    return path


def test_a_file_read_ahead_is_appended_whole_chained_and_once(engine, tmp_path):
    path = write(tmp_path / "big.ofx", *(transaction(number) for number in range(1, 1001)))
    result = importing.import_file(engine, path)
    assert (result.added, result.import_id) == (1000, 1)
    assert importing.import_file(engine, path).added == 0  # the second import only skips
    assert counts(engine) == (1, 1000)
    with engine.connect() as connection:
        assert set(connection.scalars(sa.select(tables.statement_lines.c.import_id))) == {1}
    assert verify(engine).ok
    assert multiprocessing.active_children() == []


def test_a_rejected_line_after_hundreds_were_appended_leaves_nothing(engine, tmp_path):
    path = write(tmp_path / "bad-end.ofx", *(transaction(number) for number in range(1, 1001)),
                 transaction(1001, amount="12,34,56"))
    with pytest.raises(ImportRejected, match=r"bad-end.ofx:1001: transaction 1001 \(FITID FT001001\): TRNAMT"):
        importing.import_file(engine, path)
    assert counts(engine) == (0, 0)
    assert verify(engine).ok


def test_a_file_damaged_after_hundreds_of_lines_leaves_nothing_and_no_reader(engine, tmp_path):
    path = tmp_path / "truncated.ofx"
    path.write_text(HEADER + "".join(transaction(number) for number in range(1, 1001)) + "<STMTTRN><TRNTYPE>CRE",
                    encoding="ascii")
    with pytest.raises(StatementFileError, match="truncated.ofx: not a valid OFX/QFX file: it ends inside"):
        importing.import_file(engine, path)
    assert counts(engine) == (0, 0)
    assert multiprocessing.active_children() == []
    assert importing.import_file(engine, write(tmp_path / "good.ofx", transaction(1))).import_id == 1


def test_every_database_takes_a_file_read_ahead_or_nothing_of_it(any_ledger_url, tmp_path):
    # servers check foreign keys per row: their lines wait for the import's record instead of going first
    engine = setup.open_ledger(any_ledger_url, create=True, timezone="UTC")
    lines = [transaction(number) for number in range(1, 301)]
    with pytest.raises(ImportRejected):
        importing.import_file(engine, write(tmp_path / "bad.ofx", *lines, transaction(301, amount="x")))
    assert counts(engine) == (0, 0)
    assert importing.import_file(engine, write(tmp_path / "good.ofx", *lines)).added == 300
    assert importing.import_file(engine, write(tmp_path / "more.ofx", *lines, transaction(301))).added == 1
    assert counts(engine) == (2, 301)
    assert verify(engine).ok


def test_the_reader_forks_cleanly_from_a_jupyter_kernel(tmp_path):
    """The panel imports statements from a notebook: a kernel with threads (heartbeat, output) forks the reader.

    A forked child that touched the kernel's output stream or locks would hang or lose
    the import; here a real kernel imports a file read ahead, then a damaged one.
    """
    import nbformat
    from nbclient import NotebookClient

    good = write(tmp_path / "good.ofx", *(transaction(number) for number in range(1, 301)))
    bad = write(tmp_path / "bad.ofx", *(transaction(number) for number in range(1, 301)), transaction(301, "1e3"))
    source = f"""
from vosbench.ledger import setup
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources.bankfiles import importing, reading
reading.AHEAD_FROM_BYTES, reading.BATCH_LINES = 0, 50
print("imported", importing.import_file(setup.open_ledger({f"sqlite:///{tmp_path / 'ledger.sqlite'}"!r}, create=True,
                                                           timezone="UTC"), {str(good)!r}).added)
try:
    importing.import_file(setup.open_ledger({f"sqlite:///{tmp_path / 'ledger.sqlite'}"!r}), {str(bad)!r})
except ImportRejected as refused:
    print("refused", refused.rejections[0].line, refused.rejections[0].reason)
"""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[0].outputs)
    assert "imported 300" in printed
    assert "refused 301" in printed and "1e3" in printed
    assert counts(setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")) == (1, 300)
