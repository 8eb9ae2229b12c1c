"""Ed25519-signed checkpoints: the private key signs receipts and manifests, the public key checks them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from forger import rebuild
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.commands import main
from vosbench.ledger import hashchain, month_close, setup
from vosbench.sources import csv_import

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-09-20T10:00:00Z,ann,admin,cash
    p3,C1,deposit,25.00,2026-09-22T10:00:00Z,ann,admin,cash
"""
LATER = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p4,C1,deposit,5.00,2026-10-02T10:00:00Z,ann,admin,cash
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> tuple[Path, Path, Path, Path]:
    folder = tmp_path_factory.mktemp("signed")
    private, public = folder / "keys" / "auditor.pem", folder / "keys" / "auditor.pub.pem"
    private.parent.mkdir()
    assert main.main(["keygen", "--private", str(private), "--public", str(public)]) == 0
    engine = ledger_from_text(folder, accounts=ACCOUNTS, payments=PAYMENTS)
    engine.dispose()
    db = f"sqlite:///{folder / 'ledger.sqlite'}"
    receipt = folder / "close-2026-09.json"
    assert main.main(["close", "--month", "2026-09", "--by", "sue", "--db", db, "--receipt", str(receipt),
                      "--key-file", str(private)]) == 0
    engine = setup.open_ledger(db)
    csv_import.import_paths(engine, [write_ledger_files(folder / "later", payments=LATER)])
    engine.dispose()
    return folder / "ledger.sqlite", receipt, private, public


@pytest.fixture
def ledger(signed, tmp_path):
    path, receipt, private, public = signed
    shutil.copy(path, tmp_path / "ledger.sqlite")
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}", receipt, private, public


def test_the_public_key_checks_what_the_private_key_signed(capsys, ledger):
    db, receipt, private, public = ledger
    assert (private.stat().st_mode & 0o777) == 0o600
    document = json.loads(receipt.read_text())
    assert document["signature"]["algorithm"] == "ed25519" and "hmac" not in document
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt), "--key-file", str(public))
    assert code == 0, out


def test_a_forger_without_the_private_key_is_caught_by_the_public_one(capsys, ledger, tmp_path):
    db, receipt, _private, public = ledger
    path = db.removeprefix("sqlite:///")
    rebuild(path, "UPDATE payments SET amount = 1 WHERE id = 3")
    engine = setup.open_ledger(db)
    with engine.connect() as connection:
        heads, closings = hashchain.anchor_heads(connection), month_close.closings(connection, "2026-09")
    engine.dispose()
    document = json.loads(receipt.read_text())
    document["heads"]["payments"] = heads["payments"]  # the receipt inside the ledger, made to agree
    document["closings"] = closings
    forged = json.dumps(document, sort_keys=True, separators=(",", ":")).replace("'", "''")
    rebuild(path, f"UPDATE month_closes SET receipt = '{forged}' WHERE id = 1")
    assert run(capsys, "verify", "--db", db)[0] == 0  # without a key the file agrees with itself
    code, out = run(capsys, "verify", "--db", db, "--key-file", str(public))
    assert code == 1 and "month close record 1 (2026-09): its Ed25519 signature does not match" in out
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(edited), "--key-file", str(public))
    assert code == 1 and "edited.json: its Ed25519 signature does not match" in out


def test_keys_are_used_for_what_they_can_do(capsys, ledger, tmp_path, monkeypatch):
    db, receipt, private, public = ledger
    code, out = run(capsys, "close", "--month", "2026-10", "--by", "sue", "--db", db, "--key-file", str(public),
                    "--receipt", str(tmp_path / "r.json"))
    assert code == 2 and "a public key checks signatures but cannot make them" in out
    other_private, other_public = tmp_path / "other.pem", tmp_path / "other.pub.pem"
    assert run(capsys, "keygen", "--private", str(other_private), "--public", str(other_public))[0] == 0
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt), "--key-file", str(other_public))
    assert code == 1 and "is signed with key" in out and "not with the key given" in out
    code, out = run(capsys, "keygen", "--private", str(other_private), "--public", str(tmp_path / "x.pem"))
    assert code == 2 and "exists already" in out
    monkeypatch.setenv("VOSBENCH_ANCHOR_KEY", "an-auditor-key-kept-elsewhere-0123456789")
    code, out = run(capsys, "verify", "--db", db, "--anchor", str(receipt))
    assert code == 1 and "carries no HMAC" in out
    (tmp_path / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    code, out = run(capsys, "verify", "--db", db, "--key-file", str(tmp_path / "garbage.pem"))
    assert code == 2 and "cannot be read as a PEM key" in out


def test_an_archive_manifest_is_signed_and_checked(capsys, ledger, tmp_path):
    db, _receipt, private, public = ledger
    folder = tmp_path / "archive"
    code, out = run(capsys, "archive", "--before", "2026-10", "--by", "sue", "--out", str(folder), "--db", db,
                    "--key-file", str(private))
    assert code == 0, out
    assert "signature" in json.loads((folder / "manifest.json").read_text())
    assert run(capsys, "archive", "verify", str(folder), "--key-file", str(public))[0] == 0
    assert run(capsys, "verify", "--db", db, "--key-file", str(public))[0] == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["archived_by"] = "mallory"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, out = run(capsys, "archive", "verify", str(folder), "--key-file", str(public))
    assert code == 1 and "signature does not match" in out
