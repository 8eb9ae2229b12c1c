"""A journal file streamed in parts: parsed by worker processes, appended in one transaction,
all of it or nothing, a repeat across parts caught like one within a part."""

import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.commands import main
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import database, month_totals, setup, tables, verification, write_door
from vosbench.ledger.write_door import ImportRejected, PaymentColumns
from vosbench.sources import csv_import

HEADER = "source_key,account,kind,amount,occurred_at,operator,channel,method"


def payments_text(count: int, *, extra: str = "") -> str:
    rows = [f"k{n},C1,deposit,{n}.0001,2026-10-{1 + n % 28:02d}T10:00:00Z,alice,admin,cash" for n in range(1, count + 1)]
    return "\n".join([HEADER, *rows, extra]).strip() + "\n"


def streamed_in_parts(monkeypatch, rows: int) -> None:
    """Parts of ``rows`` rows, parsed by the worker processes whatever the file's size."""
    monkeypatch.setattr(csv_import, "PART_ROWS", rows)
    monkeypatch.setattr(csv_import, "POOLED_BYTES", 0)


def stored(engine) -> tuple[list[tuple], list[tuple]]:
    with engine.connect() as connection:
        payments = connection.execute(sa.select(tables.payments.c.source_key, tables.payments.c.amount)
                                      .order_by(tables.payments.c.id)).all()
        batches = connection.execute(sa.select(tables.import_batches.c.content, tables.import_batches.c.rows_added,
                                               tables.import_batches.c.file_sha256)
                                     .where(tables.import_batches.c.content == "payments")).all()
    return [tuple(row) for row in payments], [tuple(row) for row in batches]


def test_parts_land_in_order_with_the_files_hash_and_the_chain_holds(tmp_path, monkeypatch):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    folder = write_ledger_files(tmp_path / "in", payments=payments_text(10))
    streamed_in_parts(monkeypatch, 3)
    [result] = csv_import.import_paths(engine, [folder / "payments.csv"])
    assert (result.added, result.skipped) == (10, 0)
    payments, batches = stored(engine)
    assert payments == [(f"k{n}", n * 10_000 + 1) for n in range(1, 11)]
    sha256 = csv_import.file_sha256(folder / "payments.csv")
    assert batches == [("payments", 3, sha256)] * 3 + [("payments", 1, sha256)]
    assert verification.verify(engine).ok
    [again] = csv_import.import_paths(engine, [folder / "payments.csv"])
    assert (again.added, again.skipped) == (0, 10)
    assert stored(engine)[0] == payments


def test_a_bad_row_in_a_late_part_leaves_nothing_and_every_bad_row_is_named(tmp_path, monkeypatch):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    text = payments_text(8, extra="k2,C1,deposit,2.0001,2026-10-03T10:00:00Z,alice,admin,cash\n"
                                  "k99,C1,deposit,ten,2026-10-03T10:00:00Z,alice,admin,cash")
    folder = write_ledger_files(tmp_path / "in", payments=text)
    streamed_in_parts(monkeypatch, 3)
    try:
        csv_import.import_paths(engine, [folder / "payments.csv"])
    except ImportRejected as error:
        reasons = {(r.line, r.reason.split(":")[0]) for r in error.rejections}
    else:
        raise AssertionError("a file with bad rows was imported")
    # line 10 repeats line 3's key (an earlier part); line 11's amount is not a number
    assert reasons == {(10, "source_key 'k2' appears twice in this file"), (11, "amount")}
    assert stored(engine) == ([], [])
    assert verification.verify(engine).ok


def test_a_repeat_of_an_identical_row_across_parts_is_refused_not_skipped(tmp_path, monkeypatch):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    first = "k1,C1,deposit,1.0001,2026-10-02T10:00:00Z,alice,admin,cash"
    folder = write_ledger_files(tmp_path / "in", payments=payments_text(4, extra=first))
    streamed_in_parts(monkeypatch, 2)
    try:
        csv_import.import_paths(engine, [folder / "payments.csv"])
    except ImportRejected as error:
        assert [(r.line, r.reason) for r in error.rejections] == [(6, "source_key 'k1' appears twice in this file")]
    else:
        raise AssertionError("a key repeated in the file was imported")
    assert stored(engine) == ([], [])


def test_charges_and_balances_repeated_across_parts_are_named_and_a_day_shared_by_two_parts_is_no_repeat(
        tmp_path, monkeypatch):
    """The stored rows a part compares with are those under its own (account, day) or (account, time) pairs."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    charges = ("account,day,call_fee,agent_fee,other_fee,calls\n"
               "C1,2026-10-01,1.00,0,0,1\nC1,2026-10-02,1.00,0,0,1\nC2,2026-10-02,1.00,0,0,1\nC1,2026-10-03,1.00,0,0,1\n")
    balances = "account,as_of,balance\nC1,2026-10-01T10:00:00Z,1.00\nC2,2026-10-01T10:00:00Z,2.00\n"
    folder = write_ledger_files(tmp_path / "in", charges=charges, balances=balances)
    streamed_in_parts(monkeypatch, 2)
    results = csv_import.import_paths(engine, [folder / "charges.csv", folder / "balances.csv"])
    assert [(r.added, r.skipped) for r in results] == [(4, 0), (2, 0)]
    fresh = ledger_from_text(tmp_path / "fresh", accounts=ACCOUNTS)
    repeated = write_ledger_files(tmp_path / "repeated", charges=charges.replace("C1,2026-10-03", "C1,2026-10-02"),
                                  balances=balances + "A1,2026-10-01T10:00:00Z,0\nC1,2026-10-01T10:00:00Z,1.00\n")
    for name, reason in (("charges.csv", "charges of C1 at 2026-10-02 appears twice in this file"),
                         ("balances.csv", "balance of C1 at 2026-10-01 10:00:00 appears twice in this file")):
        with pytest.raises(ImportRejected) as caught:
            csv_import.import_paths(fresh, [repeated / name])
        assert [r.reason for r in caught.value.rejections] == [reason]


def test_columns_read_each_value_as_the_row_parser_does():
    """The column-at-a-time parse is a faster spelling of the row parsers, never a different reading."""
    header = ("source_key", "account", "kind", "amount", "occurred_at", "operator", "channel", "method",
              "reference", "memo", "reason", "balance_after", "reverses", "approved_by")
    records = [[" k1 ", "C1", "Deposit", "12.5", "2026-10-01T10:00:00Z", "alice", "admin", "cash", "r", "", "", "",
                "", ""],
               ["k2", "C1", "withdrawal", "-0.0001", "2026-10-01T10:00:00.123456+04:00", "bob", "WEB", "card", "",
                "m", "why", "+1000.5", "k1", "cy"],
               ["k3", "C2", "adjustment", "7", "2026-10-31 23:59:59z", "bob", "api", "gateway", "", "", "", ".3",
                "", ""]]
    columns, rejected = csv_import.parse_part("payments", "payments.csv", header, header, [2, 3, 4], records, "UTC")
    by_rows = [csv_import._payment(dict(zip(header, cells)), line, "UTC") for line, cells in enumerate(records, 2)]
    assert rejected == [] and PaymentColumns(columns).rows() == by_rows
    header = ("account", "day", "call_fee", "agent_fee", "other_fee", "calls")
    records = [["C1", "2026-10-01", "1.2345", "0", ".5", "7"], [" C2 ", " 2026-10-02 ", "3", "1.1", "0", " 12 "]]
    rows, rejected = csv_import.parse_part("charges", "charges.csv", header, header, [2, 3], records, "UTC")
    assert rejected == [] and rows == [csv_import._charge(dict(zip(header, cells)), line, "UTC")
                                       for line, cells in enumerate(records, 2)]


def test_quoted_cells_with_line_ends_and_commas_stay_whole_across_parts(tmp_path, monkeypatch):
    """Parts are cut at record ends only: a line end inside quotes is part of its cell, and a rejection names the line
    an editor shows (each quoted memo spans two lines: the bad row is the sixth record, on line 11)."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    rows = [f'k{n},C1,deposit,{n},2026-10-0{n}T10:00:00Z,alice,admin,cash,"top-up, line one\nline ""two"""'
            for n in range(1, 6)]
    rows[3] = "k4,C1,deposit,4,2026-10-04T10:00:00Z,alice,admin,cash,plain"
    (tmp_path / "quoted").mkdir()
    path = tmp_path / "quoted" / "payments.csv"
    path.write_text("\r\n".join([HEADER + ",memo", *rows, "k6,C1,deposit,ten,2026-10-06T10:00:00Z,alice,admin,cash,x"]),
                    encoding="utf-8")
    streamed_in_parts(monkeypatch, 2)
    try:
        csv_import.import_paths(engine, [path])
    except ImportRejected as error:
        assert [(r.line, r.reason.split(":")[0]) for r in error.rejections] == [(11, "amount")]
    else:
        raise AssertionError("a row with a bad amount was imported")
    path.write_text("\r\n".join([HEADER + ",memo", *rows]), encoding="utf-8")
    [result] = csv_import.import_paths(engine, [path])
    assert result.added == 5
    with engine.connect() as connection:
        memos = connection.execute(sa.select(tables.payments.c.memo).order_by(tables.payments.c.id)).scalars().all()
    assert memos == ['top-up, line one\nline "two"'] * 3 + ["plain", 'top-up, line one\nline "two"']
    assert verification.verify(engine).ok


def test_a_quote_inside_an_unquoted_cell_that_hides_a_record_end_is_named_with_its_fix(tmp_path, monkeypatch):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    (tmp_path / "odd").mkdir()
    path = tmp_path / "odd" / "payments.csv"
    path.write_text(f'{HEADER},memo\nk1,C1,deposit,1,2026-10-01T10:00:00Z,alice,admin,cash,a 5" screen\n'
                    'k2,C1,deposit,2,2026-10-02T10:00:00Z,alice,admin,cash,plain\n', encoding="utf-8")
    streamed_in_parts(monkeypatch, 1)
    with pytest.raises(csv_import.ImportFileError) as refused:
        csv_import.import_paths(engine, [path])
    assert "quote the whole cell" in str(refused.value) and "payments.csv" in str(refused.value)
    assert stored(engine) == ([], [])


@pytest.mark.parametrize("bad, message", [
    (b"k4,C1,deposit,4,2026-10-04T10:00:00Z,alice,admin,cash,a 5\" screen", 'line 6: a quote (") inside an unquoted cell'),
    (b"k4,C1,deposit,4,2026-10-04T10:00:00Z,alice,admin,cash,one\rk5,C1,deposit,5,2026-10-05T10:00:00Z,alice,admin,cash,x",
     "line 6 holds a carriage return (CR) alone inside it"),
    (b"k4,C1,deposit,4,2026-10-04T10:00:00Z,alice,admin,cash,caf\xe9", "line 6 is not UTF-8 (invalid continuation byte: "
                                                                        "byte 0xe9); save the file as UTF-8 CSV"),
])
def test_a_part_that_cannot_be_read_names_the_line_to_fix_not_the_parts_range(tmp_path, monkeypatch, bad, message):
    """Parts of three rows: the bad record is line 6, the second part's second line (the part from line 5 was named)."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    (tmp_path / "odd").mkdir()
    path = tmp_path / "odd" / "payments.csv"
    good = [f"k{n},C1,deposit,{n},2026-10-0{n}T10:00:00Z,alice,admin,cash,plain".encode() for n in (1, 2, 3)]
    later = b"k9,C1,deposit,9,2026-10-09T10:00:00Z,alice,admin,cash,plain"
    path.write_bytes(b"\n".join([f"{HEADER},memo".encode(), *good, later, bad, later.replace(b"k9", b"k8")]) + b"\n")
    streamed_in_parts(monkeypatch, 3)
    with pytest.raises(csv_import.ImportFileError) as refused:
        csv_import.import_paths(engine, [path])
    assert str(refused.value).startswith(f"{path}: {message}")
    assert stored(engine) == ([], [])


def test_a_file_whose_lines_end_in_bare_carriage_returns_is_refused_with_the_fix(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    (tmp_path / "cr").mkdir()
    path = tmp_path / "cr" / "charges.csv"
    path.write_bytes(b"account,day,call_fee,agent_fee,other_fee,calls\rC1,2026-10-01,1,0,0,1\r")
    with pytest.raises(csv_import.ImportFileError) as refused:
        csv_import.import_paths(engine, [path])
    assert "carriage return" in str(refused.value) and "LF or CRLF" in str(refused.value)


def test_a_quote_left_open_in_an_early_part_refuses_the_whole_file(tmp_path, monkeypatch):
    """The record ends are found by quote parity, so from an open quote on the rest of the file is
    one last part: its strict reader meets the end of the data inside the cell and names its line."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    rows = [f"k{n},C1,deposit,{n}.0001,2026-10-0{n}T10:00:00Z,alice,admin,cash,x" for n in range(1, 8)]
    rows[2] = rows[2].replace(",x", ',"never closed')
    (tmp_path / "open").mkdir()
    path = tmp_path / "open" / "payments.csv"
    path.write_text("\n".join([HEADER + ",memo", *rows]) + "\n", encoding="utf-8")
    streamed_in_parts(monkeypatch, 2)
    with pytest.raises(csv_import.ImportFileError) as refused:
        csv_import.import_paths(engine, [path])
    assert "payments.csv: the quote" in str(refused.value) and "opened in the record on line 4 is never closed" in str(refused.value)
    assert stored(engine) == ([], [])


def test_a_file_in_parts_shifts_each_later_closing_once_and_its_totals_hold(tmp_path, monkeypatch):
    """Each part kept its own month totals: a charges file of six parts back-filling the odd months of a year
    shifted each later closing once per part. The file's totals are kept once at its end (or every
    COLLECTED_CELLS cells: here every second part), and still equal a recomputation."""
    payments = "\n".join([HEADER, *(f"k{month}{account},{account},deposit,100.00,2025-{month:02d}-20T10:00:00Z,alice,admin,cash"
                                    for month in range(1, 13) for account in ("C1", "C2"))])
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=payments)

    def charges(*days: int) -> str:
        return "\n".join(["account,day,call_fee,agent_fee,other_fee,calls",
                          *(f"{account},2025-{month:02d}-{day:02d},1.50,0.10,0,3"
                            for month in range(1, 13, 2) for day in days for account in ("C1", "C2"))])

    folder = write_ledger_files(tmp_path / "charges", charges=charges(1, 2))
    streamed_in_parts(monkeypatch, 4)  # 24 rows: six parts, each a month of both accounts
    ran: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cursor, statement, *_rest: ran.append(statement) if statement.startswith(
                        "UPDATE account_months") else None)
    [result] = csv_import.import_paths(engine, [folder / "charges.csv"])
    assert result.added == 24
    assert len(ran) == 1  # the later months' closings, once for the whole file
    with engine.connect() as connection:
        assert month_totals.stored(connection) == month_totals.recompute(connection)
    monkeypatch.setattr(write_door, "COLLECTED_CELLS", 4)  # two parts' cells: kept every second part
    again = write_ledger_files(tmp_path / "again", charges=charges(11, 12))
    [result] = csv_import.import_paths(engine, [again / "charges.csv"])
    assert result.added == 24 and len(ran) == 1 + 3
    assert verification.verify(engine).ok


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):  # a process that ended meanwhile
                continue
    return found


def _importing_with_workers(tmp_path):
    """A ledger, what it stores, and a `vosbench import` of 300,000 payments into it, returned once both of its
    parsing workers run (the file is being read): (engine, stored, process, in a session of its own)."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    path = tmp_path / "big" / "payments.csv"
    path.parent.mkdir()
    path.write_text(payments_text(300_000), encoding="utf-8")
    process = subprocess.Popen([str(Path(sys.executable).parent / "vosbench"), "import", "--db",
                                f"sqlite:///{tmp_path / 'ledger.sqlite'}", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while process.poll() is None and len(_children(process.pid)) < 2:
        time.sleep(0.1)
    return engine, stored(engine), process


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the importer's workers through Linux's /proc")
def test_ctrl_c_during_an_import_keeps_nothing_of_the_file_and_says_so_in_one_line(tmp_path, capsys):
    """Ctrl-C reaches the importer and its parsing workers (the terminal's process group): one line, exit 130, the
    file rolled back; it printed a Python traceback from the importer and from each worker."""
    engine, before, process = _importing_with_workers(tmp_path)
    while process.poll() is None and not _write_locked(tmp_path / "ledger.sqlite"):  # the records are being written
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert (process.returncode, err.splitlines()) == (130, [
        "vosbench import: interrupted (Ctrl-C); the ledger keeps only what the command had finished (each file of an "
        "import is kept whole or not at all); run it again to complete it"])
    assert stored(engine) == before
    assert verification.verify(engine).ok
    # verify (read-only) says what the stop left: the payments' indexes set aside, and what builds them
    assert main.main(["verify", "--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("NOTE ")]
    assert notes == [f"NOTE payments lacks its indexes {', '.join(sorted(index.name for index in tables.payments.indexes))} "
                     "(an import was stopped before it built them again): the records are whole, but queries are slower "
                     "until `vosbench info` (or any command that opens the ledger for writing) builds them"]
    engine.dispose()  # the next command to open the ledger builds the payments' indexes the import had set aside
    reopened = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with reopened.connect() as connection:
        kept = set(connection.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'payments'")))
    assert {index.name for index in tables.payments.indexes} <= kept
    assert verification.verify(reopened).notes == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the importer's workers through Linux's /proc")
def test_the_parsing_workers_of_a_killed_import_end_with_it(tmp_path):
    """kill -9 of the importer (an operator's last resort, a machine's OOM killer): its workers end within seconds,
    and the next command finds nothing of the file (they waited on their queue for ever, 190 MB between them)."""
    engine, before, process = _importing_with_workers(tmp_path)
    workers = _children(process.pid)
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # not left behind by a failing run
        os.kill(pid, signal.SIGKILL)
    assert left == []
    assert stored(engine) == before
    assert verification.verify(engine).ok


def _write_locked(path: Path) -> bool:
    """Whether another connection holds the SQLite file's write lock (a write begun here without waiting fails)."""
    import sqlite3

    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (an ended one waiting to be reaped is a zombie: not running)."""
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state


def test_an_import_reads_the_ledger_unmapped_and_its_connections_map_it_again_after(tmp_path):
    """A page read through SQLite's map stays resident: an import that reads the whole journal after appending
    (its text index, its statistics) held as much of the file as it read, so its memory grew with the ledger."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    folder = write_ledger_files(tmp_path / "in", payments=payments_text(10))
    mapped: set[int] = set()

    @sa.event.listens_for(engine, "before_cursor_execute")
    def note(connection, cursor, statement, parameters, context, executemany):
        mapped.add(connection.connection.driver_connection.execute("PRAGMA mmap_size").fetchone()[0])

    [result] = csv_import.import_paths(engine, [folder / "payments.csv"])
    sa.event.remove(engine, "before_cursor_execute", note)
    assert result.added == 10 and mapped == {0}
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() == database.MAPPED_BYTES


def test_the_parts_of_a_file_read_the_accounts_once_and_an_account_added_meanwhile_is_known(tmp_path, monkeypatch):
    """Each part read every account anew (90 ms a part at 50,000 accounts); kept, the ids must not go stale."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    folder = write_ledger_files(tmp_path / "in", payments=payments_text(10))
    streamed_in_parts(monkeypatch, 3)
    reads: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def note(connection, cursor, statement, parameters, context, executemany):
        if "SELECT accounts.account, accounts.id" in statement:
            reads.append(statement)

    csv_import.import_paths(engine, [folder / "payments.csv"])
    sa.event.remove(engine, "before_cursor_execute", note)
    assert len(reads) == 1  # four parts
    new = write_door.NewAccount("C3", "Late Customer", AccountKind.CUSTOMER, "A1", 0, "USD", "UTC", line=2)
    payment = write_door.NewPayment("late-1", "C3", Kind.DEPOSIT, 10_000, datetime(2026, 10, 2, 10), "alice",
                                    Channel.ADMIN, Method.CASH, line=2)
    with engine.begin() as connection:  # the ids kept by a batch of the same transaction, then an account added
        write_door.append_batch(engine, "payments", [payment._replace(source_key="late-0", account="C1")],
                                source="test", file="payments.csv", connection=connection)
        write_door.append_batch(engine, "accounts", [new], source="test", file="accounts.csv", connection=connection)
        result = write_door.append_batch(engine, "payments", [payment], source="test", file="payments.csv",
                                         connection=connection)
    assert result.added == 1


def test_a_streamed_file_is_appended_through_a_bounded_page_cache_and_file_backed_temporary_storage(tmp_path, monkeypatch):
    """The importer's memory was mostly SQLite's: a 10M-payment file filled the ledger's 256 MiB page cache, and
    each part's savepoint journal, kept in memory, grew with the rollups (peak 1,158 MiB). Its rows go in through
    a cache of :data:`csv_import.STREAM_CACHE_KIB` with temporary storage in files, and the pooled connection
    has the ledger's own settings again for whatever reads it next."""
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS)
    folder = write_ledger_files(tmp_path / "in", payments=payments_text(10))
    streamed_in_parts(monkeypatch, 3)
    caches: set[int] = set()

    @sa.event.listens_for(engine, "before_cursor_execute")
    def note(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO payments "):
            driver = connection.connection.driver_connection
            caches.add((driver.execute("PRAGMA cache_size").fetchone()[0], driver.execute("PRAGMA temp_store").fetchone()[0]))

    [result] = csv_import.import_paths(engine, [folder / "payments.csv"])
    sa.event.remove(engine, "before_cursor_execute", note)
    assert result.added == 10 and caches == {(-csv_import.STREAM_CACHE_KIB, 1)}  # temporary storage: a file
    assert -csv_import.STREAM_CACHE_KIB > database.CACHE_SIZE  # smaller than the ledger's own
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == database.CACHE_SIZE
        assert connection.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # memory, as the ledger's connections


def test_a_workers_part_comes_back_to_the_importer_as_one_block_of_bytes(tmp_path):
    """What the pool's thread receives is allocated in that thread's own heap and freed from the importer's,
    where it was not reused (the importer grew with the file): a part crosses as bytes, unpickled by the importer."""
    text = payments_text(4)
    header = tuple(text.splitlines()[0].split(","))
    raw = "\n".join(text.splitlines()[1:]).encode() + b"\n"
    arguments = ("payments", str(tmp_path / "payments.csv"), header, header, 2, raw, 4, "UTC")
    sent = csv_import._pickled_part(*arguments)
    assert isinstance(sent, bytes)
    assert pickle.loads(sent) == csv_import.parse_raw_part(*arguments)
