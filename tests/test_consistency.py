"""Consistency proofs: an earlier close receipt's Merkle tree is a prefix of a later one's, shown in log2(n) hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from forger import rebuild
from hypothesis import given
from hypothesis import strategies as st
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files

from vosbench.commands import main
from vosbench.ledger import merkle, month_close
from vosbench.sources import csv_import

SEPTEMBER = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash
    p2,C2,deposit,40.00,2026-09-20T10:00:00Z,ann,admin,cash
    p3,C1,deposit,25.00,2026-09-22T10:00:00Z,ann,admin,cash
"""
OCTOBER = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p4,C1,deposit,5.00,2026-10-02T10:00:00Z,ann,admin,cash
    p5,C2,deposit,6.00,2026-10-03T10:00:00Z,ann,admin,cash
    p6,C2,deposit,7.00,2026-10-04T10:00:00Z,ann,admin,cash
"""


@given(st.integers(1, 70), st.data())
def test_every_prefix_is_proven_and_a_changed_one_is_not(size, data):
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size)]
    old = data.draw(st.integers(1, size))
    proof = merkle.consistency_proof(hashes, old)
    assert len(proof) <= 2 * size.bit_length()
    assert merkle.verify_consistency(old, size, merkle.root(hashes[:old]), merkle.root(hashes), proof)
    if old < size:
        changed = list(hashes)
        changed[data.draw(st.integers(0, old - 1))] = "00" * 32
        assert not merkle.verify_consistency(old, size, merkle.root(changed[:old]), merkle.root(hashes), proof)
        assert not merkle.verify_consistency(old, size, merkle.root(hashes[:old]), merkle.root(changed), proof)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main.main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.fixture
def receipts(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=SEPTEMBER)
    first = month_close.close(engine, "2026-09", by="sue", at=datetime(2026, 10, 2)).receipt
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "october", payments=OCTOBER)])
    second = month_close.close(engine, "2026-10", by="sue", at=datetime(2026, 11, 2)).receipt
    engine.dispose()
    old, new = tmp_path / "close-2026-09.json", tmp_path / "close-2026-10.json"
    old.write_text(json.dumps(first))
    new.write_text(json.dumps(second))
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}", old, new


def test_a_later_receipt_extends_an_earlier_one(capsys, receipts, tmp_path):
    db, old, new = receipts
    out_file = tmp_path / "consistency.json"
    code, out = run(capsys, "proof", "--consistency", str(old), "--anchor", str(new), "--db", db,
                    "--out", str(out_file))
    assert code == 0, out
    proof = json.loads(out_file.read_text())
    assert (proof["old_size"], proof["new_size"]) == (3, 6) and len(proof["path"]) <= 4
    code, out = run(capsys, "proof", "verify", str(out_file), "--anchor", str(new), "--consistency", str(old))
    assert code == 0 and "the first 3 of the 6" in out
    proof["path"][0] = "ab" * 32
    out_file.write_text(json.dumps(proof))
    code, out = run(capsys, "proof", "verify", str(out_file), "--anchor", str(new))
    assert code == 1 and "not a prefix" in out
    code, out = run(capsys, "proof", "--consistency", str(new), "--anchor", str(old), "--db", db)
    assert code == 2 and "give the earlier receipt" in out


def test_a_rebuilt_history_cannot_be_proven_consistent(capsys, receipts):
    db, old, new = receipts
    rebuild(db.removeprefix("sqlite:///"), "UPDATE payments SET amount = 1 WHERE id = 2")
    code, out = run(capsys, "proof", "--consistency", str(old), "--anchor", str(new), "--db", db)
    assert code == 1 and "no longer lead to the root" in out
