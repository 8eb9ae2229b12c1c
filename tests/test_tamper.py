"""Changes made with direct SQL behind the guards, each caught by `vosbench verify` with the record named.

One ledger holding every kind of audit record is built once; each case tampers with a
copy of its file through a plain sqlite3 connection, the way someone holding the file
would, then runs the real command on it.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ledger_text import ACCOUNTS, ledger_from_text, write_ledger_files
from tamper_sql import behind_guards

from vosbench.analysis.matching import decisions
from vosbench.commands import main
from vosbench.controls import annotations, runner
from vosbench.ledger import approvals, guards, hashchain, policy, setup, text_index
from vosbench.ledger.policy import from_mapping
from vosbench.sources import csv_import
from vosbench.sources.bankfiles import importing
from vosbench.sources.vos3000 import state

SAMPLES = Path(__file__).parent / "samples" / "statements"
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo
    p1,C1,deposit,100.00,2026-09-05T10:00:00Z,ann,admin,cash,R-1,first top-up
    p2,C2,deposit,40.00,2026-09-20T10:00:00Z,ann,web,card,R-2,portal top-up
    p3,C1,deposit,25.00,2026-10-02T10:00:00Z,bob,admin,cash,R-3,october
    p4,C2,withdrawal,-5.00,2026-10-03T10:00:00Z,bob,admin,cash,R-4,refund
    p5,A1,commission,4.00,2026-10-04T10:00:00Z,system,automatic,other,COMM-A1,
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-10,10.00,0,0,10
    C2,2026-10-10,3.00,0,0,4
"""
BALANCES = """
    account,as_of,balance
    C1,2026-10-31T20:00:00Z,105.00
"""
OPERATORS = """
    login,name,role,timezone,shift_start,shift_end,working_days
    ann,Ann Lee,clerk,UTC,09:00,17:00,12345
    bob,Bob Ray,supervisor,UTC,08:00,16:00,12345
"""
MANAGED = """
    login,account,relation
    ann,C2,owns
"""
RATES = """
    account,rate
    A1,0.05
"""
RENAMED = """
    account,name,kind,parent,credit_limit,currency,timezone
    C2,Acme Trading FZE,customer,A1,20.00,USD,UTC
"""
RULES = from_mapping({"approval_thresholds": {"USD": {"deposit": "10000.00"}}})


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    engine = ledger_from_text(folder, accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES, balances=BALANCES,
                              operators=OPERATORS, operator_accounts=MANAGED, commission_rates=RATES)
    at = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)
    for amount in ("20000.00", "15000.00"):
        approvals.submit(engine, RULES, account="C1", kind="deposit", amount=amount, operator="ann", occurred_at=at)
    approvals.reject(engine, 1, checker="bob", reason="not on the bank statement")
    approvals.approve(engine, 2, checker="bob")
    importing.import_file(engine, SAMPLES / "gateway.csv", profile="gateway")
    decisions.record(engine, "reject", line_ids=[1], payment_ids=[1], decided_by="ann", note="not this one")
    finding_id = runner.run(engine, "2026-10", policy.load()).findings[0].finding_id
    annotations.annotate(engine, finding_id, month="2026-10", status="explained", note="known customer", author="bob")
    with engine.begin() as connection:
        state.saver("vos", "e_payhistory", "77", 77, {"url": "mysql://vos/db"},
                    [state.Flag("e_payhistory", "77", "gap", "id 77 missing")])(connection)
    csv_import.import_paths(engine, [write_ledger_files(folder / "renamed", accounts=RENAMED)])
    text_index.catch_up(engine)
    engine.dispose()
    return folder / "ledger.sqlite"


@pytest.fixture
def ledger(pristine, tmp_path) -> Path:
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(pristine, copy)
    return copy


def verify(capsys, path: Path, *extra: str) -> tuple[int, str]:
    code = main.main(["verify", "--db", f"sqlite:///{path}", "--all", *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def test_the_untouched_ledger_verifies(capsys, ledger):
    code, out = verify(capsys, ledger)
    assert code == 0 and "ledger verified" in out
    assert "accounts: 4 rows" in out and "statement_lines:" in out


# (kind of change, SQL, the tables whose guards are lifted for it, what verify must say)
BEHIND_THE_GUARDS = [
    ("payment amount edited", ["UPDATE payments SET amount = 990000 WHERE id = 2"], ("payments",),
     ["payments row 2 was changed", "month totals of C2"]),
    ("payment operator edited", ["UPDATE payments SET operator = 'zed' WHERE id = 3"], ("payments",),
     ["payments row 3 was changed"]),
    ("payment removed from the middle", ["DELETE FROM payments WHERE id = 2"], ("payments",),
     ["payments row 2 is missing"]),
    ("last payments removed", ["DELETE FROM payments WHERE id >= 5"], ("payments",),
     ["the last 2 rows were removed (through id 6)"]),
    ("payment slipped in with a made-up hash",
     ["INSERT INTO payments SELECT 7, account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, "
      "reference, memo, reason, balance_after, NULL, approved_by, source, 'x7', batch_id, hash FROM payments "
      "WHERE id = 6"], ("payments",),  # a copy of the approved 15,000.00: its request is decided, the guard refuses it
     ["payments row 7 was changed", "month totals of C1 for 2026-10"]),
    ("payment moved to another month by its time's text alone",  # reads back as the same time: the hash holds
     ["UPDATE payments SET occurred_at = replace(occurred_at, ' ', 'T') WHERE id = 2"], ("payments",),
     ["payments record 2 holds a time in a form the ledger never writes"]),
    ("payment's recorded time stored as a number", ["UPDATE payments SET recorded_at = julianday(recorded_at) WHERE id = 3"],
     ("payments",), ["payments record 3 holds a time"]),
    ("charge's day stored with a time", ["UPDATE charges SET day = day || ' 00:00:00' WHERE id = 1"], ("charges",),
     ["charges record 1 holds a time"]),
    ("chain head moved", ["UPDATE chain_heads SET head_hash = CASE WHEN head_hash LIKE 'ab%' THEN 'cd' ELSE 'ab' END "
                          "|| substr(head_hash, 3) WHERE name = 'payments'"],
     (), ["payments: chain head records"]),
    ("chain head removed", ["DELETE FROM chain_heads WHERE name = 'accounts'"], (),
     ["accounts: the ledger has no chain head"]),
    ("charge edited", ["UPDATE charges SET call_fee = 1 WHERE id = 1"], ("charges",),
     ["charges row 1 was changed", "month totals of C1 for 2026-09"]),
    ("reported balance edited", ["UPDATE balance_snapshots SET balance = 1 WHERE id = 1"], ("balance_snapshots",),
     ["balance_snapshots row 1 was changed"]),
    ("two account numbers swapped",
     ["UPDATE accounts SET account = 'TMP' WHERE account = 'C1'", "UPDATE accounts SET account = 'C1' WHERE account = 'C2'",
      "UPDATE accounts SET account = 'C2' WHERE account = 'TMP'"], ("accounts",), ["accounts row 3 was changed"]),
    ("account parent changed", ["UPDATE accounts SET parent_id = 1 WHERE account = 'C2'"], ("accounts",),
     ["accounts row 4 was changed"]),
    ("credit limit raised", ["UPDATE accounts SET credit_limit = 99990000 WHERE account = 'C1'"], ("accounts",),
     ["accounts row 3 was changed"]),
    ("account removed", ["DELETE FROM accounts WHERE account = 'C2'"], ("accounts",), ["accounts row 4 was removed"]),
    ("account slipped in without its link", ["INSERT INTO accounts (account, name, kind, credit_limit, currency, "
                                             "timezone) VALUES ('C9', 'Ghost', 'customer', 0, 'USD', 'UTC')"],
     ("accounts",), ["accounts row 5 was added behind the guards"]),
    ("account version edited", ["UPDATE account_versions SET credit_limit = 99990000"], ("account_versions",),
     ["account_versions row 1 was changed"]),
    ("account version removed (the old details show again)", ["DELETE FROM account_versions"], ("account_versions",),
     ["account_versions row 1 was removed"]),
    ("account version slipped in without its link",
     ["INSERT INTO account_versions (account_id, name, parent_id, credit_limit, currency, changed_by, changed_at) "
      "VALUES (3, 'Other Holder', 1, 0, 'USD', 'csv', '2026-10-06 10:00:00.000000')"], ("account_versions",),
     ["account_versions row 2 was added behind the guards"]),
    ("current-accounts view redefined to ignore versions",
     ["DROP VIEW current_accounts", "CREATE VIEW current_accounts AS SELECT * FROM accounts"], (),
     ["view current_accounts differs from the one vosbench installs"]),
    ("current-accounts view dropped", ["DROP VIEW current_accounts"], (), ["view current_accounts is missing"]),
    ("import batch's file hash edited", ["UPDATE import_batches SET file_sha256 = 'x' WHERE id = 1"],
     ("import_batches",), ["import_batches row 1 was changed"]),
    ("statement line amount edited", ["UPDATE statement_lines SET amount = 1 WHERE id = 2"], ("statement_lines",),
     ["statement_lines row 2 was changed"]),
    ("statement line removed", ["DELETE FROM statement_lines WHERE id = 3"], ("statement_lines",),
     ["statement_lines row 3 was removed"]),
    ("statement import's fee edited", ["UPDATE statement_imports SET fee_percent = '0' WHERE id = 1"],
     ("statement_imports",), ["statement_imports row 1 was changed"]),
    ("match decision turned", ["UPDATE match_decisions SET action = 'confirm' WHERE id = 1"], ("match_decisions",),
     ["match_decisions row 1 was changed"]),
    ("finding annotation reworded", ["UPDATE finding_annotations SET status = 'open' WHERE id = 1"],
     ("finding_annotations",), ["finding_annotations row 1 was changed"]),
    ("operator promoted", ["UPDATE operators SET role = 'supervisor' WHERE login = 'ann'"], ("operators",),
     ["operators row 1 was changed"]),
    ("managed account forgotten", ["DELETE FROM operator_accounts"], ("operator_accounts",),
     ["operator_accounts row 1 was removed"]),
    ("commission rate edited", ["UPDATE commission_rates SET rate = '0.5'"], ("commission_rates",),
     ["commission_rates row 2 was changed"]),  # its rowid is the account's id
    ("approval request amount edited", ["UPDATE approval_requests SET amount = 1 WHERE id = 2"],
     ("approval_requests",), ["approval_requests row 2 was changed"]),
    ("rejection replaced by an approval through request_id",
     ["REPLACE INTO approval_decisions (request_id, decision, checker, decided_at, reason) "
      "VALUES (1, 'approved', 'bob', '2026-10-06 10:00:00.000000', '')"], ("approval_decisions",),
     ["approval_decisions row 1 was removed"]),
    ("sync flag reworded", ["UPDATE sync_flags SET detail = 'fine'"], ("sync_flags",), ["sync_flags row 1 was changed"]),
    ("sync mark moved back", ["UPDATE sync_state SET mark = '10', rows_read = 10"], (),
     ["sync mark of vos/e_payhistory is '10' (10 rows read), its history ends at '77'"]),
    ("sync mark's history rewritten", ["UPDATE sync_marks SET mark = '10'"], ("sync_marks",),
     ["sync_marks row 1 was changed", "sync mark of vos/e_payhistory is '77'"]),
    ("sync mark removed", ["DELETE FROM sync_state"], (), ["sync mark of vos/e_payhistory is gone"]),
    ("a row's link rewritten", ["UPDATE row_links SET hash = substr(hash, 2) || '0' "
                                "WHERE table_name = 'accounts' AND row_id = 2"], ("row_links",),
     ["accounts row 2 was changed"]),
    ("month totals edited", ["UPDATE account_months SET deposit = deposit + 1 WHERE month = '2026-10'"], (),
     ["month totals of C1 for 2026-10"]),
    ("payment dropped from the text index",
     ["INSERT INTO payment_text(payment_text, rowid, reference, memo) "
      "SELECT 'delete', id, reference, memo FROM payments WHERE id = 3"], (),
     ["payment 3 is missing from the text index"]),
    ("text index claims more than there is",
     ["UPDATE ledger_meta SET value = '99' WHERE key = 'payment_text_indexed_through'"], (),
     ["the text index claims payments up to id 99"]),
    ("guard dropped", ["DROP TRIGGER payments_no_update"], (), ["guard payments_no_update on payments is missing"]),
    ("every guard dropped", [f"DROP TRIGGER {guard.name}" for guard in guards.expected_guards("sqlite")], (),
     ["guard accounts_no_update on accounts is missing", "guard row_links_no_delete on row_links is missing"]),
    ("guard weakened", ["DROP TRIGGER approval_decisions_no_replace",
                        "CREATE TRIGGER approval_decisions_no_replace BEFORE INSERT ON approval_decisions WHEN EXISTS "
                        "(SELECT 1 FROM approval_decisions WHERE id = NEW.id) BEGIN SELECT RAISE(ABORT, 'x'); END"], (),
     ["guard approval_decisions_no_replace on approval_decisions differs"]),
    ("trigger that rewrites records as they arrive",
     ["CREATE TRIGGER payments_fee AFTER INSERT ON payments BEGIN SELECT 1; END"], (),
     ["trigger payments_fee on payments is not one vosbench installs"]),
    ("column dropped", ["ALTER TABLE finding_annotations DROP COLUMN note"], ("finding_annotations",),
     ["column finding_annotations.note is missing"]),
    ("column added", ["ALTER TABLE payments ADD COLUMN hidden TEXT"], (), ["column payments.hidden is not part"]),
    ("table dropped", ["DROP TABLE match_decisions"], ("match_decisions",), ["table match_decisions is missing"]),
]


@pytest.mark.parametrize("kind, statements, lifted, expected", BEHIND_THE_GUARDS,
                         ids=[case[0] for case in BEHIND_THE_GUARDS])
def test_a_change_behind_the_guards_is_named_by_verify(capsys, ledger, kind, statements, lifted, expected):
    behind_guards(ledger, *statements, tables=lifted)
    code, out = verify(capsys, ledger)
    assert code == 1, out
    for fragment in expected:
        assert fragment in out, f"{kind}: {fragment!r} not in\n{out}"


def test_verify_leaves_a_dropped_table_dropped(capsys, ledger):
    behind_guards(ledger, "DROP TABLE match_decisions", tables=("match_decisions",))
    before = ledger.read_bytes()
    verify(capsys, ledger)
    verify(capsys, ledger)
    assert ledger.read_bytes() == before
    with sqlite3.connect(ledger) as raw:
        assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'match_decisions'").fetchone() == (0,)
    raw.close()


@pytest.mark.parametrize("statement, table", [
    ("REPLACE INTO approval_decisions (request_id, decision, checker, decided_at, reason) "
     "VALUES (1, 'approved', 'bob', '2026-10-06 10:00:00.000000', '')", "approval_decisions"),
    ("INSERT OR REPLACE INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, "
     "reference, memo, reason, approved_by, source, source_key, hash) SELECT account_id, kind, 1, occurred_at, "
     "recorded_at, operator, channel, method, reference, memo, reason, approved_by, source, source_key, hash "
     "FROM payments WHERE id = 1", "payments"),
    ("REPLACE INTO operators VALUES ('ann', 'Ann', 'supervisor', 'UTC', 0, 1440, '1234567')", "operators"),
    ("REPLACE INTO commission_rates VALUES (2, '0.9')", "commission_rates"),
    ("UPDATE accounts SET parent_id = NULL WHERE account = 'C1'", "accounts"),
    ("DELETE FROM statement_lines", "statement_lines"),
    ("UPDATE sync_flags SET detail = ''", "sync_flags"),
    ("UPDATE account_versions SET name = 'x'", "account_versions"),
    ("REPLACE INTO account_versions (id, account_id, name, credit_limit, currency, changed_by, changed_at) "
     "VALUES (1, 4, 'x', 0, 'USD', 'csv', '2026-10-06 10:00:00.000000')", "account_versions"),
])
def test_the_guards_refuse_edits_and_replacement_through_any_key(ledger, statement, table):
    with sqlite3.connect(ledger) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
            raw.execute(statement)
    raw.close()


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"this is not a database" * 100), "cannot be read as a database"),
    (lambda path: path.write_bytes(path.read_bytes()[:8192]), "malformed"),
    (lambda path: path.unlink(), "does not exist"),
])
def test_a_damaged_ledger_gives_a_message_not_a_traceback(capsys, ledger, damage, message):
    damage(ledger)
    code, out = verify(capsys, ledger)
    assert code in (1, 2) and message in out


def test_a_ledger_of_schema_2_is_guarded_and_chained_when_opened(capsys, ledger):
    """What vosbench wrote before: guards on the journal tables only, replacement checked by id, no row chains."""
    with sqlite3.connect(ledger) as raw:
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            raw.execute(f"DROP TRIGGER {name}")
        raw.execute("DROP TABLE row_links")
        raw.execute("DROP TABLE sync_marks")
        raw.execute("DROP TABLE month_closes")
        raw.execute("DELETE FROM chain_heads WHERE name NOT IN ('payments', 'charges', 'balance_snapshots')")
        raw.execute("UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'")
        raw.execute("CREATE TRIGGER approval_decisions_no_replace BEFORE INSERT ON approval_decisions WHEN EXISTS "
                    "(SELECT 1 FROM approval_decisions WHERE id = NEW.id) BEGIN SELECT RAISE(ABORT, 'x'); END")
    raw.close()
    code, out = verify(capsys, ledger)
    assert code == 1 and "the ledger is schema 2" in out and "table row_links is missing" in out
    setup.open_ledger(f"sqlite:///{ledger}").dispose()
    code, out = verify(capsys, ledger)
    assert code == 0, out
    assert "accounts: 4 rows" in out and "sync_marks: 1 rows" in out
    with pytest.raises(sqlite3.IntegrityError, match="approval_decisions is append-only"):
        with sqlite3.connect(ledger) as raw:
            raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
            raw.execute("REPLACE INTO approval_decisions (request_id, decision, checker, decided_at, reason) "
                        "VALUES (1, 'approved', 'bob', '2026-10-06 10:00:00.000000', '')")


@pytest.mark.parametrize("statement, said, unsaid", [
    # the same instant in another form: the chain holds (verify says the form is not the ledger's)
    ("UPDATE payments SET occurred_at = replace(occurred_at, ' ', 'T') WHERE id = 2",
     "payments record 2 holds a time in a form the ledger never writes", "payments row 2 was changed"),
    ("UPDATE payments SET memo = x'00ff' WHERE id = 3", "a row holds a value the ledger never writes", ""),
])
def test_the_chain_is_recomputed_from_the_values_as_the_ledger_reads_them(capsys, ledger, statement, said, unsaid):
    """SQLite writes each row's canonical text for verify (quicker than reading every value); where its text and
    the values read the ordinary way differ, the values decide, so the shortcut finds exactly what they find."""
    behind_guards(ledger, statement, tables=("payments",))
    code, out = verify(capsys, ledger)
    assert code == 1 and said in out, out
    assert not unsaid or unsaid not in out, out


@pytest.mark.parametrize("statement", [
    "",  # untouched
    "UPDATE payments SET amount = amount + 1 WHERE id = 2",
    "UPDATE charges SET call_fee = call_fee + 1 WHERE id = 1",
    "DELETE FROM charges WHERE id = 1",
    "UPDATE payments SET occurred_at = replace(occurred_at, ' ', 'T') WHERE id = 2",
    "UPDATE payments SET memo = x'00ff' WHERE id = 3",
])
def test_chains_rehashed_side_by_side_find_what_one_process_finds(capsys, ledger, monkeypatch, statement):
    """A long ledger's journal chains are re-hashed each in a process of its own: forced here on a short one,
    `verify` says word for word what it says when this process re-hashes them all."""
    from vosbench.ledger import verification

    if statement:
        behind_guards(ledger, statement, tables=("payments", "charges"))
    alone = verify(capsys, ledger)
    monkeypatch.setattr(verification, "SIDE_BY_SIDE_ROWS", 0)
    assert verify(capsys, ledger) == alone
    assert (alone[0] == 0) == (not statement), alone[1]


def test_verify_names_every_row_edited_or_removed_not_the_first_alone(capsys, ledger):
    """Three rows edited in place were one problem, the first; the others showed only once it was mended."""
    behind_guards(ledger, "UPDATE payments SET amount = amount * 10 WHERE id IN (1, 3, 5)",
                  "DELETE FROM charges WHERE id = 1", tables=("payments", "charges"))
    code, out = verify(capsys, ledger)
    named = [line for line in out.splitlines() if line.startswith("FAILED [hash chain]")]
    assert code == 1 and named[:4] == [
        "FAILED [hash chain] payments row 1 was changed after it was recorded (hash mismatch)",
        "FAILED [hash chain] payments row 3 was changed after it was recorded (hash mismatch)",
        "FAILED [hash chain] payments row 5 was changed after it was recorded (hash mismatch)",
        "FAILED [hash chain] charges row 1 is missing (next id 2)"], out


def test_a_blob_read_in_the_chains_text_is_read_again_from_there_each_column_tested(ledger, monkeypatch):
    """SQLite's json_array refuses a blob: the rows are read without testing each column first, and from the last row
    taken on again with the test when it refuses one (in pieces of two rows here, so the refusal comes mid-read)."""
    import sqlalchemy as sa

    from vosbench.ledger import hashchain, setup, tables

    behind_guards(ledger, "UPDATE payments SET memo = x'00ff' WHERE id = 4", tables=("payments",))
    engine = setup.open_ledger(f"sqlite:///{ledger}")
    reading = hashchain.driver_rows
    monkeypatch.setattr(hashchain, "driver_rows", lambda connection, query, params=None: reading(connection, query, params, 2))
    try:
        with engine.connect() as connection:
            texts = list(hashchain._canonical_texts(connection, tables.payments, 0))
            ids = connection.scalars(sa.select(tables.payments.c.id).order_by(tables.payments.c.id)).all()
    finally:
        engine.dispose()
    assert [row[0] for row in texts] == ids and len(ids) > 5  # every row once, in order
    assert [row[0] for row in texts if row[1] is None] == [4]
    assert all(row[1].startswith(f"[{row[0]},") for row in texts if row[0] != 4)


def test_the_text_index_check_names_the_smallest_ids_first_from_where_it_starts(ledger):
    """The two sides are compared in id order (a merge of two ordered reads): what it names is, as before, the first
    ``limit`` ids missing past ``after``, smallest first; an id up to ``after`` is not its to name."""
    import sqlite3

    from vosbench.ledger import setup, text_index

    with sqlite3.connect(ledger) as raw:
        raw.execute("INSERT INTO payment_text(payment_text, rowid, reference, memo) "
                    "SELECT 'delete', id, reference, memo FROM payments WHERE id IN (5, 2, 4)")
    engine = setup.open_ledger(f"sqlite:///{ledger}")
    try:
        with engine.connect() as connection:
            found = text_index.disagreements(connection, 2, after=2)
    finally:
        engine.dispose()
    assert [payment_id for payment_id, _ in found] == [4, 5]
