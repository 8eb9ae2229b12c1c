"""Retention that keeps the proof: archive closed months, read them back, purge, and everything still checks."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files
from tamper_sql import behind_guards

from vosbench.analysis import explore, payment_columns, reconcile
from vosbench.analysis.filters import PaymentFilter
from vosbench.commands import main
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import archive, hashchain, merkle, month_close, text_index, verification
from vosbench.ledger.write_door import NewCharge, NewPayment, append_batch
from vosbench.sources import csv_import

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo
    p1,C1,deposit,100.00,2026-08-05T10:00:00Z,ann,admin,cash,R-1,august
    p2,C2,deposit,40.00,2026-08-20T10:00:00Z,ann,web,card,R-2,august
    p3,C1,deposit,25.00,2026-09-02T10:00:00Z,bob,admin,cash,R-3,september
    p4,C2,withdrawal,-5.00,2026-10-03T10:00:00Z,bob,admin,cash,R-4,october
    p5,A1,commission,4.00,2026-10-04T10:00:00Z,system,automatic,other,COMM-A1,
    p6,C1,deposit,7.00,2026-09-28T10:00:00Z,ann,admin,cash,R-6,late september
    p7,C1,deposit,9.00,2026-11-03T10:00:00Z,ann,admin,cash,R-7,november
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-08-10,10.00,0,0,10
    C2,2026-10-10,3.00,0,0,4
    C1,2026-09-10,2.00,0,0,3
"""
BALANCES = """
    account,as_of,balance
    C1,2026-08-31T20:00:00Z,90.00
    C1,2026-10-31T20:00:00Z,120.00
"""
MONTHS = ("2026-08", "2026-09", "2026-10", "2026-11")


def _figures(engine, month: str) -> dict:
    frame = reconcile.reconcile(engine, month).accounts
    return {row["account"]: tuple(None if pd.isna(row[c]) else int(row[c]) for c in reconcile.MONEY_COLUMNS)
            for _, row in frame.iterrows()}


@pytest.fixture
def ledger(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES, balances=BALANCES)
    text_index.catch_up(engine)
    for month in ("2026-08", "2026-09", "2026-10"):
        month_close.close(engine, month, by="sue", at=datetime(2026, 11, 2))
    yield engine, tmp_path / "ledger.sqlite"
    engine.dispose()


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def test_archive_then_purge_keeps_reconcile_verify_and_the_records_readable(ledger, tmp_path, capsys):
    engine, path = ledger
    url = f"sqlite:///{path}"
    before = {month: _figures(engine, month) for month in MONTHS}
    with engine.connect() as connection:
        tree = merkle.root(merkle.payment_hashes(connection, 7))
    folder = tmp_path / "archive"
    code, out = run(capsys, "archive", "--before", "2026-10", "--by", "sue", "--out", str(folder), "--db", url,
                    "--compact")
    assert code == 0, out
    assert "2026-08, 2026-09" in out and "4 payments" in out and "2 charges" in out and "1 balance_snapshots" in out
    assert "7 records purged" in out
    assert {p.name for p in folder.iterdir()} == {"payments.parquet", "charges.parquet", "balance_snapshots.parquet",
                                                   "accounts.parquet", "account_months.parquet", "manifest.json",
                                                   "archive.xlsx"}
    manifest = json.loads((folder / "manifest.json").read_text())
    # p6 came after p4 and p5: the payments purged are two runs, each with the links around it
    assert [run[:2] for run in manifest["tables"]["payments"]["runs"]] == [[1, 3], [6, 6]]
    assert manifest["sums"]["payments"] == {"USD": {"deposit": 1_720_000}}
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT id FROM payments ORDER BY id").scalars().all() == [4, 5, 7]
    for month in ("2026-10", "2026-11"):
        assert _figures(engine, month) == before[month]
    code, out = run(capsys, "verify", "--db", url)
    assert code == 0, out
    assert "payments: 7 rows" in out
    code, out = run(capsys, "query", "--archive", str(folder), "--account", "C1", "--format", "csv")
    assert code == 0 and "R-1" in out and "R-6" in out and "R-7" not in out
    assert ",2026-08-05 10:00:00 +00:00," in out  # R-1's time, with the archive zone's offset
    code, out = run(capsys, "query", "--db", url, "--text", "august")
    assert code == 0 and "R-1" not in out
    assert run(capsys, "archive", "verify", str(folder))[0] == 0
    for wrong, said in ((tmp_path / "nope", "does not exist"), (folder / "manifest.json", "is a file, not a folder")):
        code, out = run(capsys, "archive", "verify", str(wrong))
        assert code == 2 and f"{wrong} {said}; give the folder `vosbench archive` wrote" in out  # a path, not a failed check
    # an anchor taken before the purge still checks: the rows it saw are the archive's to prove
    assert run(capsys, "verify", "--db", url, "--anchor", str(_receipt(engine, tmp_path)))[0] == 0
    code, out = run(capsys, "controls", "--month", "2026-10", "--db", url)
    assert code in (0, 1), out
    # October's first payment (id 4) follows a purged range: the pack links it to the range's last hash
    pack = tmp_path / "evidence-2026-10.zip"
    assert run(capsys, "evidence", "--month", "2026-10", "--out", str(pack), "--db", url)[0] == 0
    code, out = run(capsys, "evidence", "verify", str(pack))
    assert code == 0, out
    # a month closed after the purge roots its Merkle tree in the same leaves, the purged ones read from the archive
    event = month_close.close(engine, "2026-11", by="sue", at=datetime(2026, 12, 2))
    assert event.receipt["merkle"]["payments"]["root"] == tree
    receipt = _receipt(engine, tmp_path)
    assert run(capsys, "proof", "--payment", "7", "--anchor", str(receipt), "--out", str(tmp_path / "p.json"),
               "--db", url)[0] == 0
    assert run(capsys, "proof", "verify", str(tmp_path / "p.json"), "--anchor", str(receipt))[0] == 0


def _receipt(engine, tmp_path) -> Path:
    with engine.connect() as connection:
        receipt = month_close.history(connection)[-1].receipt
    out = tmp_path / "receipt.json"
    out.write_text(json.dumps(receipt))
    return out


def test_an_archive_changed_after_it_was_written_is_refused_and_nothing_is_purged(ledger, tmp_path):
    engine, path = ledger
    folder = tmp_path / "archive"
    archive.write(engine, "2026-10", folder, by="sue")
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    data = bytearray((folder / "payments.parquet").read_bytes())
    data[len(data) // 2] ^= 1
    (folder / "payments.parquet").write_bytes(bytes(data))
    assert any("payments.parquet does not match its sha256" in p for p in archive.verify_folder(folder))
    with pytest.raises(archive.ArchiveError, match="does not verify, nothing was purged"):
        archive.purge(engine, folder, by="sue")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM payments").scalar() == 7
    # re-sealing a changed manifest does not help: the records' links are re-hashed
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tables"]["payments"]["rows"] = 3
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert any("the manifest records 3" in p for p in archive.verify_folder(copy))


def test_open_months_are_not_archived(ledger, capsys, tmp_path, monkeypatch):
    engine, path = ledger
    monkeypatch.chdir(tmp_path)  # where the default archive folder would be made
    code, out = run(capsys, "archive", "--before", "2026-12", "--by", "sue", "--db", f"sqlite:///{path}")
    assert code == 2 and "2026-11 is not closed" in out
    assert not (tmp_path / "archives").exists()  # a refusal leaves no folder behind
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM payments").scalar() == 7


def test_the_guards_refuse_a_delete_outside_a_recorded_purge(ledger, tmp_path):
    engine, path = ledger
    archive.write(engine, "2026-10", tmp_path / "archive", by="sue")
    archive.purge(engine, tmp_path / "archive", by="sue")
    with sqlite3.connect(path) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        with pytest.raises(sqlite3.IntegrityError, match="payments is append-only"):
            raw.execute("DELETE FROM payments WHERE id = 4")
    raw.close()


@pytest.fixture
def purged(ledger, tmp_path) -> Path:
    engine, path = ledger
    archive.write(engine, "2026-10", tmp_path / "archive", by="sue")
    archive.purge(engine, tmp_path / "archive", by="sue")
    engine.dispose()
    return path


AFTER_A_PURGE = [
    ("rows deleted under a purged range made up for them",
     ["INSERT INTO purged_ranges (archive_id, table_name, first_id, last_id, previous_hash, last_hash) "
      "SELECT 9, 'payments', 4, 4, (SELECT last_hash FROM purged_ranges WHERE first_id = 1 AND table_name = "
      "'payments'), hash FROM payments WHERE id = 4", "DELETE FROM payments WHERE id = 4"], ("payments",),
     ["names archive 9, which the ledger does not hold"]),
    ("carried-forward month totals edited", ["UPDATE account_months SET closing = closing + 1 WHERE month = '2026-09'"],
     (), ["differ from its manifest: the balances they carry forward were changed"]),
    ("archive manifest edited", ["UPDATE archives SET before_month = '2026-09'"], ("archives",),
     ["archives row 1 was changed"]),
    ("purged range's link edited", ["UPDATE purged_ranges SET last_hash = previous_hash WHERE first_id = 6"],
     ("purged_ranges",), ["purged_ranges row 2 was changed"]),
    ("purged range removed", ["DELETE FROM purged_ranges WHERE first_id = 6"], ("purged_ranges",),
     ["purged_ranges row 2 was removed", "purged range payments 6–6 is missing"]),
    ("kept payment after a purged range edited", ["UPDATE payments SET amount = 1 WHERE id = 4"], ("payments",),
     ["payments row 4 was changed"]),
]


@pytest.mark.parametrize("kind, statements, lifted, expected", AFTER_A_PURGE, ids=[case[0] for case in AFTER_A_PURGE])
def test_a_change_after_a_purge_is_named_by_verify(capsys, purged, kind, statements, lifted, expected):
    behind_guards(purged, *statements, tables=lifted)
    code, out = run(capsys, "verify", "--db", f"sqlite:///{purged}", "--all")
    assert code == 1, out
    for fragment in expected:
        assert fragment in out, f"{kind}: {fragment!r} not in\n{out}"


def test_the_retention_policy_runs_the_same_steps(ledger, tmp_path, capsys, monkeypatch):
    engine, path = ledger
    policy = tmp_path / "retention.yaml"
    policy.write_text(f"keep_months: 60\narchive_root: {tmp_path / 'kept'}\n")
    code, out = run(capsys, "archive", "--policy", str(policy), "--by", "sue", "--db", f"sqlite:///{path}")
    assert code == 0 and "nothing to archive" in out
    policy.write_text("keep_months: 0\n")
    code, out = run(capsys, "archive", "--policy", str(policy), "--by", "sue", "--db", f"sqlite:///{path}")
    assert code == 2 and "keep_months must be a whole number" in out
    assert archive.RetentionPolicy(3, tmp_path).before(datetime(2026, 12, 15).date()) == "2026-10"
    assert archive.load_policy().keep_months == 24  # the shipped parameters/retention.yaml


def test_a_later_archive_follows_an_earlier_one(ledger, tmp_path, capsys):
    engine, path = ledger
    url = f"sqlite:///{path}"
    before = _figures(engine, "2026-11")
    assert run(capsys, "archive", "--before", "2026-09", "--by", "sue", "--out", str(tmp_path / "a1"), "--db", url)[0] == 0
    assert run(capsys, "archive", "--before", "2026-11", "--by", "sue", "--out", str(tmp_path / "a2"), "--db", url)[0] == 0
    assert _figures(engine, "2026-11") == before
    code, out = run(capsys, "verify", "--db", url)
    assert code == 0, out
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "more", payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        p8,C2,deposit,1.00,2026-11-20T10:00:00Z,ann,admin,cash
    """)])
    assert run(capsys, "verify", "--db", url)[0] == 0


payment_rows = st.lists(st.tuples(st.sampled_from(["C1", "C2"]), st.integers(0, 4), st.integers(1, 27),
                                  st.integers(-5_000, 90_000).filter(bool)), min_size=1, max_size=25)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=payment_rows, charged=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 27)), max_size=6),
       cut=st.integers(1, 4))
def test_archive_purge_reconcile_gives_the_same_figures_for_the_months_kept(tmp_path_factory, rows, charged, cut):
    folder = tmp_path_factory.mktemp("property")
    engine = ledger_from_text(folder, accounts=ACCOUNTS)
    months = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    payments = [NewPayment(f"k{index}", account, Kind.DEPOSIT if amount > 0 else Kind.WITHDRAWAL, amount * 100,
                           datetime.fromisoformat(f"{months[month]}-{day:02d}T12:00:00"), "ann", Channel.ADMIN,
                           Method.CASH) for index, (account, month, day, amount) in enumerate(rows)]
    append_batch(engine, "payments", payments, source="csv", file="payments.csv")
    charges = {(months[month], day): NewCharge("C1", date.fromisoformat(f"{months[month]}-{day:02d}"), 10_000, 0, 0, 1)
               for month, day in charged}
    if charges:
        append_batch(engine, "charges", list(charges.values()), source="csv", file="charges.csv")
    for month in months[:-1]:
        month_close.close(engine, month, by="sue", at=datetime(2026, 11, 1))
    kept = months[cut:]
    before = {month: _figures(engine, month) for month in kept}
    try:
        archive.write(engine, months[cut], folder / "archive", by="sue")
    except archive.NothingToArchive:
        return
    archive.purge(engine, folder / "archive", by="sue")
    assert {month: _figures(engine, month) for month in kept} == before
    assert verification.verify(engine).ok
    engine.dispose()


def test_where_the_ledger_has_identities_only_a_supervisor_archives_and_purges(ledger, tmp_path):
    from vosbench.ledger import identity

    engine, path = ledger
    identity.register(engine, "kim", "clerk")
    identity.register(engine, "sue", "supervisor")
    folder = tmp_path / "archive"
    with pytest.raises(month_close.CloseError, match="'kim' is not a registered supervisor"):
        archive.write(engine, "2026-10", folder, by="kim")  # refused before a file holds the ledger's records
    assert not folder.exists()
    archive.write(engine, "2026-10", folder, by="sue")
    for who in ("kim", "nobody", ""):
        with pytest.raises(month_close.CloseError, match="supervisor|say who"):
            archive.purge(engine, folder, by=who)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM payments").scalar() == 7
    assert archive.purge(engine, folder, by="sue") > 0


def test_a_purge_builds_the_explore_columns_again(ledger, tmp_path, capsys, monkeypatch):
    """The columns the panel scans kept the purged records: after a purge they are never used as they were."""
    monkeypatch.setenv("VOSBENCH_CACHE", str(tmp_path / "cache"))
    engine, path = ledger
    assert len(payment_columns.refresh(engine)) == 7
    code, out = run(capsys, "archive", "--before", "2026-10", "--by", "sue", "--out", str(tmp_path / "archive"),
                    "--db", f"sqlite:///{path}")
    assert code == 0, out
    assert payment_columns.current(engine) is None  # the purge is seen: SQL answers until they are built again
    assert explore.totals_by_kind(engine, PaymentFilter())["count"].sum() == 3
    assert len(payment_columns.refresh(engine)) == 3
    assert explore.totals_by_kind(engine, PaymentFilter(accounts=("C1",)))["count"].sum() == 1
