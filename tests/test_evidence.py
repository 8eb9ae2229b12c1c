"""The evidence pack: written from a ledger, checked offline after being copied elsewhere, refused after any change."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from forger import rebuild
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench.commands import main

KEY = "an-auditor-key-kept-elsewhere-0123456789"
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-10-20T10:00:00Z,ann,admin,cash
    p3,C1,withdrawal,-5.00,2026-10-21T10:00:00Z,bob,admin,cash
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-10-10,10.00,0,0,10
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("evidence")
    ledger_from_text(folder, accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES).dispose()
    db = f"sqlite:///{folder / 'ledger.sqlite'}"
    report = folder / "audit.xlsx"
    report.write_bytes(b"the month's workbook")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOSBENCH_ANCHOR_KEY", KEY)
        assert main.main(["close", "--month", "2026-10", "--by", "sue", "--db", db,
                          "--receipt", str(folder / "close.json")]) == 0
        assert main.main(["evidence", "--month", "2026-10", "--db", db, "--out", str(folder / "pack.zip"),
                          "--report", str(report)]) == 0
    return folder / "ledger.sqlite", folder / "pack.zip"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("VOSBENCH_ANCHOR_KEY", KEY)


def test_the_pack_holds_the_month_and_verifies_offline_after_being_copied(capsys, made, tmp_path, key):
    ledger, pack = made
    elsewhere = tmp_path / "auditor" / "pack.zip"
    elsewhere.parent.mkdir()
    shutil.copy(pack, elsewhere)
    ledger.rename(ledger.with_suffix(".away"))  # offline: no ledger anywhere
    try:
        code, out = run(capsys, "evidence", "verify", elsewhere)
    finally:
        ledger.with_suffix(".away").rename(ledger)
    assert code == 0 and "every file and record checks" in out and "sealed and checked with the key" in out
    assert "holds 4 accounts, 0 balance_snapshots, 1 charges, 2 payments" in out
    with zipfile.ZipFile(elsewhere) as opened:
        assert sorted(opened.namelist()) == sorted(
            ["manifest.json", "anchor.json", "payments.jsonl", "charges.jsonl", "balance_snapshots.jsonl",
             "accounts.jsonl", "close-receipt.json", "report/audit.xlsx"])
        manifest = json.loads(opened.read("manifest.json"))
    assert manifest["payment_sums"] == {"deposit": 400000, "withdrawal": -50000}


def rewrite(pack: Path, out: Path, name: str, change) -> None:
    """A copy of ``pack`` with ``name``'s bytes passed through ``change``."""
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            target.writestr(item, change(data) if item == name else data)


def flip(data: bytes) -> bytes:
    at = len(data) // 2
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def fewer_payments(data: bytes) -> bytes:
    return data.replace(b'"rows": 3', b'"rows": 2', 1)


@pytest.mark.parametrize("name, change, message", [
    ("payments.jsonl", flip, "payments.jsonl was changed"),
    ("accounts.jsonl", flip, "accounts.jsonl was changed"),
    ("report/audit.xlsx", flip, "report/audit.xlsx was changed"),
    ("manifest.json", flip, "manifest.json was changed"),
    ("anchor.json", flip, "anchor.json"),
    ("anchor.json", fewer_payments, "anchor.json: its HMAC does not match"),
    ("close-receipt.json", flip, "close-receipt.json was changed"),
])
def test_a_one_byte_change_anywhere_is_refused(capsys, made, tmp_path, key, name, change, message):
    changed = tmp_path / "changed.zip"
    rewrite(made[1], changed, name, change)
    code, out = run(capsys, "evidence", "verify", changed)
    assert code == 1 and message in out, out


def test_a_record_edited_with_its_manifest_recomputed_does_not_hash_to_its_link(capsys, made, tmp_path):
    import hashlib

    changed, final = tmp_path / "changed.zip", tmp_path / "final.zip"
    rewrite(made[1], changed, "payments.jsonl", lambda data: data.replace(b"400000", b"900000", 1))
    with zipfile.ZipFile(changed) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        manifest["files"]["payments.jsonl"]["sha256"] = hashlib.sha256(opened.read("payments.jsonl")).hexdigest()
    rewrite(changed, final, "manifest.json", lambda _data: json.dumps(manifest).encode())
    code, out = run(capsys, "evidence", "verify", final)  # no key: the forger's best case
    assert code == 1 and "payments record 2 does not hash to its link" in out, out


def test_a_ledger_is_checked_against_the_pack(capsys, made, tmp_path, key):
    ledger, pack = made
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(ledger, copy)
    code, out = run(capsys, "verify", "--db", f"sqlite:///{copy}", "--anchor", pack)
    assert code == 0, out
    rebuild(copy, "UPDATE payments SET amount = 1 WHERE id = 1")
    code, out = run(capsys, "verify", "--db", f"sqlite:///{copy}", "--anchor", pack)
    assert code == 1 and "pack.zip:anchor.json saw" in out


def test_a_file_that_is_no_pack_is_a_message(capsys, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("no zip")
    code, out = run(capsys, "evidence", "verify", bad)
    assert code == 2 and "cannot be read as an evidence pack" in out
