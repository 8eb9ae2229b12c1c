"""The evidence pack: written from a ledger, checked offline after being copied elsewhere, refused after any change."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from forger import rebuild
from ledger_text import ACCOUNTS, ledger_from_text
from tamper_sql import behind_guards

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
        assert main.main(["close", "--month", "2026-09", "--by", "sue", "--db", db,
                          "--receipt", str(folder / "close-2026-09.json")]) == 0
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


def test_a_pack_damaged_in_transit_is_no_anchor(capsys, made, tmp_path, key):
    """A byte of the stored manifest flipped in the zip itself (its checksum now fails): `verify --anchor` said
    "ledger verified", reading anchor.json alone; the pack it was handed vouches for nothing."""
    ledger, pack = made
    data = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as opened:
        member = opened.getinfo("manifest.json")
    # the local header: 30 bytes, then the name and the extra field, whose lengths sit at bytes 26 and 28
    start = member.header_offset + 30 + int.from_bytes(data[member.header_offset + 26:member.header_offset + 28], "little") \
        + int.from_bytes(data[member.header_offset + 28:member.header_offset + 30], "little")
    data[start + 5] ^= 1
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    code, out = run(capsys, "verify", "--db", f"sqlite:///{ledger}", "--anchor", damaged)
    lines = out.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"vosbench verify: evidence pack {damaged} is damaged")
    assert lines[0].endswith("`vosbench evidence verify` checks a pack, take the auditor's own copy")


def test_a_file_that_is_no_pack_is_a_message(capsys, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("no zip")
    code, out = run(capsys, "evidence", "verify", bad)
    assert code == 2 and "cannot be read as an evidence pack" in out


def test_no_pack_nor_proof_vouches_for_a_record_edited_behind_the_guards(capsys, made, tmp_path):
    ledger, _pack = made
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(ledger, copy)
    behind_guards(copy, "UPDATE payments SET amount = 9000000 WHERE id = 2", tables=("payments",))  # p2, 40.00 → 900.00
    db = f"sqlite:///{copy}"
    code, out = run(capsys, "evidence", "--month", "2026-10", "--db", db, "--out", tmp_path / "pack.zip")
    assert code == 1 and "evidence of 2026-10: not written, the ledger was changed behind its write door" in out
    assert "(payments record 2: the values no longer hash to the recorded link)" in out
    assert not (tmp_path / "pack.zip").exists()
    code, out = run(capsys, "proof", "--payment", "2", "--anchor", ledger.parent / "close.json", "--db", db,
                    "--out", tmp_path / "proof.json")
    assert code == 1 and "FAILED payment 2: its values do not hash to its chain link" in out
    assert not (tmp_path / "proof.json").exists()
    code, out = run(capsys, "evidence", "--month", "2026-09", "--db", db, "--out", tmp_path / "september.zip")
    assert code == 0, out  # September's records hash: its pack is written


@pytest.mark.parametrize("argv, message", [
    (("evidence", "--month", "2026-10", "--out", "{folder}"), "argument --out: {folder} is a folder; give a file name"),
    (("evidence", "--month", "2026-10", "--out", "/dev/null"), "argument --out: /dev/null is not a regular file"),
    (("close", "--month", "2026-10", "--by", "sue", "--receipt", "{folder}"), "argument --receipt: {folder} is a folder"),
])
def test_an_out_that_is_no_file_is_refused_in_one_line(capsys, made, tmp_path, argv, message):
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal: usage and one line, exit 2
        main.main([arg.format(folder=tmp_path) for arg in argv] + ["--db", f"sqlite:///{made[0]}"])
    err = capsys.readouterr().err
    assert refused.value.code == 2 and message.format(folder=tmp_path) in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (("proof", "--payment", "1", "--anchor", "/dev/null"), "anchor /dev/null is not a regular file; give a close receipt"),
    (("verify", "--anchor", "{folder}"), "anchor {folder} is a folder; give a close receipt"),
])
def test_an_anchor_that_is_no_file_is_named_for_what_it_is(capsys, made, tmp_path, argv, message):
    code, out = run(capsys, *(arg.format(folder=tmp_path) for arg in argv), "--db", f"sqlite:///{made[0]}")
    assert code == 2 and message.format(folder=tmp_path) in out
