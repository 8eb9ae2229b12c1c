"""The import's output pinned: the same files at the same moment make the same ledger, byte for byte.

The write path is made faster over time (bench/import_profile.py); what it stores must not
move. Files of three accounts over six months, streamed in parts of 37 records (so parts
cut months, days and the collected month totals), imported at a fixed moment: every table
the import writes is digested (``SELECT *`` in key order, the driver's own values) and
compared with the digest main made before the write path was reworked (f6451cc).
"""

import hashlib
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from ledger_text import write_ledger_files

from vosbench.ledger import hashchain, listed_values, month_totals, setup, write_door
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources import csv_import

MOMENT = datetime(2026, 11, 20, 9, 30, 15, 123456)
"""When the import runs (naive UTC): what every record's recorded_at and every batch's imported_at hold."""

WRITTEN = ("payments", "charges", "account_months", "import_batches", "chain_heads", "row_links",
           "payment_rollup", "account_rollup", "amount_rollup", "accounts", "account_tree")
"""The tables a journal import writes (and the accounts it reads)."""

SET_UP = "approval_thresholds"
"""The row chain the ledger's creation writes with the real time (its thresholds), left out of the digests."""

DIGESTS = {  # made by main (f6451cc)
    "payments": "16095b363a90954328cc040c40d8c5c01251892bdc6de04dd716ebcd80c686e7",
    "charges": "0342791b79b73cfa44649859d3075db53f14b5c824b62da833b29e842ca8a782",
    "account_months": "4d13a09f2288c19a7755a459b872d6d6f153892883615aa0a79473da57144956",
    "import_batches": "fba015233536072a82e419552361923dc61ff5b596a3b65bacec0fe4f2fbffa8",
    "chain_heads": "96647d86c5aa1dd48f4522aa526b6b282624873e6754c6ff2cec7c4ddf7cdaff",
    "row_links": "ebcaf196777d1b7a57bdda3f13efdbb9b7c041104bc2b3e84eac1e31f5fbe610",
    "payment_rollup": "a44e0a0e9443ebc52ccffe9073c489b7b3f6d71abc2c43a7d797ab2fb5eca34b",
    "account_rollup": "75a39d62c1c91faba37dda4afb528c1da63e428aab3876d0dbaa99e78c6774e4",
    "amount_rollup": "f14e5a019ee44620364c432502f3b8f7bf33fc0270e0787a88547584f6d2aaa2",
    "accounts": "7723727ec31ac9df2f9bd308f684aaa2e145e12a50673b31898fad6cba83b63e",
    "account_tree": "8d3b0eefba31e86c322d4f327502600b0910a2c946e9719507730c245537ba65",
}


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):
        return MOMENT.replace(tzinfo=UTC) if tz is not None else MOMENT


def journal_files(folder):
    """accounts, 300 payments and 240 charge rows from a fixed seed: every kind, signs, cents, six months."""
    rng = random.Random(18)
    accounts = "account,name,kind,parent\nR1,Reseller,reseller,\nA1,Agent,agent,R1\nC1,Acme,customer,A1\nC2,Beta,customer,A1\n"
    kinds = ("deposit", "withdrawal", "adjustment", "bonus", "auto_recharge", "commission")
    lines = ["source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason"]
    start = datetime(2026, 4, 1)
    for n in sorted(rng.randrange(180 * 86_400) for _ in range(300)):
        kind = rng.choice(kinds)
        account = "A1" if kind == "commission" else rng.choice(("C1", "C2"))
        amount = rng.randrange(1, 10**7)
        sign = "-" if kind == "withdrawal" or (kind == "adjustment" and amount % 2) else ""
        at = start + timedelta(seconds=n, microseconds=rng.randrange(10**6))
        lines.append(f"P{len(lines):05d},{account},{kind},{sign}{amount // 10_000}.{amount % 10_000:04d},"
                     f"{at:%Y-%m-%dT%H:%M:%S.%f}Z,alice,web,card,REF{rng.randrange(10**6)},memo {n % 7},"
                     f"{'why' if kind == 'adjustment' else ''}")
    charges = ["account,day,call_fee,agent_fee,other_fee,calls"]
    for index in range(120):
        day = date(2026, 4, 1) + timedelta(days=index + rng.randrange(2))
        for account in ("C1", "C2"):
            charges.append(f"{account},{day + timedelta(days=index)},{rng.randrange(10**5)}.{rng.randrange(10**4):04d},"
                           f"0.{rng.randrange(100):02d},0,{rng.randrange(300)}")
    return write_ledger_files(folder, accounts=accounts, payments="\n".join(lines), charges="\n".join(charges))


def digests(path) -> dict[str, str]:
    """sha256 of each table of :data:`WRITTEN`, its rows as the driver gives them, in the order of their text."""
    found = {}
    with sqlite3.connect(path) as connection:
        for name in WRITTEN:
            digest = hashlib.sha256()
            for row in sorted(connection.execute(f"SELECT * FROM {name}"), key=repr):
                if SET_UP not in row:
                    digest.update(repr(row).encode())
            found[name] = digest.hexdigest()
    return found


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(write_door, "datetime", _Frozen)
    monkeypatch.setattr(csv_import, "PART_ROWS", 37)
    monkeypatch.setattr(write_door, "COLLECTED_CELLS", 5)  # the month totals kept a few parts at a time
    monkeypatch.setattr(month_totals, "STORED_CHUNK", 1)  # their stored months read an account at a time
    monkeypatch.setattr(listed_values, "CHUNK", {"sqlite": 3})  # keys and accounts looked up three at a time


def imported(tmp_path, files) -> tuple:
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True)
    csv_import.import_paths(engine, [files / "accounts.csv"])
    csv_import.import_paths(engine, [files / "payments.csv", files / "charges.csv"])
    return engine, tmp_path / "ledger.sqlite"


def test_the_same_files_at_the_same_moment_make_the_ledger_main_made_and_its_chains_verify(tmp_path, frozen_clock):
    files = journal_files(tmp_path / "in")
    engine, path = imported(tmp_path / "a", files)
    with engine.connect() as connection:
        for name in ("payments", "charges"):
            assert hashchain.verify_chain(connection, name) == []
        heads = hashchain.fingerprint(connection)
    assert (heads["payments"]["rows"], heads["charges"]["rows"]) == (300, 240)
    assert digests(path) == DIGESTS


def test_a_bad_last_line_writes_nothing_of_its_file(tmp_path, frozen_clock):
    files = journal_files(tmp_path / "in")
    engine, path = imported(tmp_path / "a", files)
    before = digests(path)
    with open(files / "payments.csv", "a") as out:  # a new key in a later month, amount not a number
        out.write("P99999,C1,deposit,12.3x,2026-10-30T10:00:00Z,alice,web,card,,,\n")
    (files / "payments.csv").write_text((files / "payments.csv").read_text().replace("P00001,", "N00001,"))
    with pytest.raises(ImportRejected, match="payments.csv:302"):
        csv_import.import_paths(engine, [files / "payments.csv"])
    assert digests(path) == before


def test_keys_of_any_spelling_are_found_again_across_lookups(tmp_path, frozen_clock):
    """Source keys are looked up as a JSON list on SQLite: quotes, backslashes, other scripts and digits that read
    as numbers are still text, each found again (skipped when identical, refused when it differs). A key holding a
    NUL, which SQLite's json_each would cut short ('nul\\x00inside' read as the key 'nul'), is looked up as a
    plain list."""
    files = journal_files(tmp_path / "in")
    keys = ['q"uote', "back\\slash", "ключ-7", "00123", "1e3", "𝟙", "comma,inside", "nul\x00inside", "nul"]
    text = (files / "payments.csv").read_text().splitlines()
    for index, key in enumerate(keys, start=1):
        cells = text[index].split(",", 1)
        text[index] = '"' + key.replace('"', '""') + '",' + cells[1]
    (files / "payments.csv").write_text("\n".join(text) + "\n")
    engine, path = imported(tmp_path / "a", files)
    [again] = csv_import.import_paths(engine, [files / "payments.csv"])
    assert (again.added, again.skipped) == (0, 300)
    changed = (files / "payments.csv").read_text().replace(",alice,", ",bob,", 1)
    (files / "payments.csv").write_text(changed)
    with pytest.raises(ImportRejected, match="source_key 'q\"uote' was already imported with other values"):
        csv_import.import_paths(engine, [files / "payments.csv"])
