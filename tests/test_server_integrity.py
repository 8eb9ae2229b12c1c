"""Integrity on PostgreSQL and MariaDB: row chains, the installed guards compared, and retention purge.

Each ledger is a small one imported through the real door on a private server. The owner
(who can drop or disable what guards the tables) changes things the way someone holding
the database would; ``verify`` must name each change. Writers inserting side by side must
not fork a chain, and archive → purge must leave reconciliation and verification as they were.
A record or a close racing a month's close is tried on SQLite as well.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_text import ACCOUNTS, TEAM, write_ledger_files
from test_archive import BALANCES, CHARGES, PAYMENTS, _figures

from vosbench.commands import main
from vosbench.core.model import Channel, Kind, Method
from vosbench.core.money import UNIT
from vosbench.ledger import archive, database, guards, month_close, month_totals, setup, verification
from vosbench.ledger.write_door import ImportRejected, NewCharge, NewPayment, append_batch
from vosbench.sources import csv_import

SERVERS = ("postgresql", "mysql")


def _server(request, dialect: str):
    return request.getfixturevalue("postgresql" if dialect == "postgresql" else "mariadb")


def _ledger(server, folder, **files: str):
    """A ledger on ``server`` holding the CSV texts, imported through the write door: (url, engine)."""
    return _ledger_at(fresh_database(server, "integrity"), folder, **files)


def _ledger_at(url: str, folder, **files: str):
    """The ledger at ``url`` made, holding the CSV texts: (url, engine)."""
    engine = setup.open_ledger(url, create=True)
    csv_import.import_paths(engine, [write_ledger_files(folder, **files)], default_tz="UTC")
    return url, engine


@pytest.fixture(params=SERVERS)
def ledger(request, tmp_path):
    """The archive tests' ledger with its team, August to October closed: (dialect, url, engine)."""
    url, engine = _ledger(_server(request, request.param), tmp_path / "in", accounts=ACCOUNTS, operators=TEAM,
                          payments=PAYMENTS, charges=CHARGES, balances=BALANCES)
    for month in ("2026-08", "2026-09", "2026-10"):
        month_close.close(engine, month, by="bob", second="cy", at=datetime(2026, 11, 2))
    yield request.param, url, engine
    engine.dispose()


def behind_guards(engine, *statements: str, tables: tuple[str, ...] = ()) -> None:
    """As the owner: lift the guards of ``tables`` (disabled on PostgreSQL, dropped on MariaDB), run
    ``statements``, and put the guards back exactly as they were."""
    dialect = engine.dialect.name
    lifted = [guard for guard in guards.expected_guards(dialect) if guard.table in tables]
    with engine.begin() as connection:
        for table in tables:
            if dialect == "postgresql":
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        if dialect != "postgresql":
            for guard in lifted:
                connection.exec_driver_sql(f"DROP TRIGGER {guard.name}")
        for statement in statements:
            connection.exec_driver_sql(statement)
        for table in tables:
            if dialect == "postgresql":
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        if dialect != "postgresql":
            for guard in lifted:
                connection.exec_driver_sql(guard.sql)


def _verify(capsys, url: str) -> tuple[int, str]:
    code = main.main(["verify", "--db", url, "--all"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def test_every_audit_table_is_chained_and_the_untouched_ledger_verifies(ledger, capsys):
    _dialect, url, engine = ledger
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.problems)
    assert not [note for note in result.not_checked if "hash chain" in note or "guards" in note]
    assert result.fingerprint["accounts"]["rows"] == 4
    assert result.fingerprint["operators"]["rows"] == 5
    assert result.fingerprint["month_closes"]["rows"] == 3
    assert _verify(capsys, url)[0] == 0


def _account_id(engine, account: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT id FROM accounts WHERE account = :a"), {"a": account}).scalar_one()


TAMPERING = [  # (kind, statements by dialect or for both, tables lifted, what verify says)
    ("account number swapped", "UPDATE accounts SET account = 'C9' WHERE account = 'C2'", ("accounts",),
     "accounts row {C2} was changed"),
    ("account's parent changed", "UPDATE accounts SET parent_id = NULL WHERE account = 'C1'", ("accounts",),
     "accounts row {C1} was changed"),
    ("close record removed", "DELETE FROM month_closes WHERE month = '2026-10'", ("month_closes",),
     "month_closes row 3 was removed"),
    ("operator's role raised", "UPDATE operators SET role = 'supervisor' WHERE login = 'ann'", ("operators",),
     "operators row (login ann) was changed"),
    ("operator slipped in", "INSERT INTO operators (login, name, role, timezone, shift_start, shift_end, "
     "working_days) VALUES ('eve', 'Eve', 'supervisor', 'UTC', 0, 1440, '1234567')", ("operators",),
     "operators row (login eve) was added behind the guards"),
    ("payment edited", "UPDATE payments SET amount = 1 WHERE id = 4", ("payments",), "payments row 4 was changed"),
    ("payment deleted outside any purged range", "DELETE FROM payments WHERE id = 7", ("payments",),
     "payments: chain head records 7 rows"),
]


@pytest.mark.parametrize("kind, statement, lifted, expected", TAMPERING, ids=[case[0] for case in TAMPERING])
def test_a_change_behind_the_guards_is_named_by_verify(capsys, ledger, kind, statement, lifted, expected):
    _dialect, url, engine = ledger
    named = expected.format(**{account: _account_id(engine, account) for account in ("C1", "C2")}) \
        if "{" in expected else expected
    behind_guards(engine, statement, tables=lifted)
    code, out = _verify(capsys, url)
    assert code == 1, out
    assert named in out, f"{kind}: {named!r} not in\n{out}"


def _function_altered(dialect: str) -> tuple[list[str], str]:
    if dialect == "postgresql":  # a guard that lets everything through, under the same name
        return (["CREATE OR REPLACE FUNCTION vosbench_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN RETURN OLD; END $$"], "guard function vosbench_append_only differs")
    return (["DROP TRIGGER payments_no_update",
             "CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments FOR EACH ROW SET @x = 1"],
            "guard payments_no_update on payments differs")


def _trigger_disabled(dialect: str) -> tuple[list[str], str]:
    if dialect == "postgresql":
        return (["ALTER TABLE accounts DISABLE TRIGGER accounts_no_change"],
                "guard accounts_no_change on accounts is disabled")
    # MariaDB cannot disable a trigger: the nearest is one kept under its name that never refuses
    return (["DROP TRIGGER accounts_no_delete",
             "CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts FOR EACH ROW "
             "IF OLD.id < 0 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'accounts is append-only'; END IF"],
            "guard accounts_no_delete on accounts differs")


GUARD_CHANGES = {
    "trigger dropped": lambda dialect: (
        ["DROP TRIGGER payments_no_change ON payments" if dialect == "postgresql"
         else "DROP TRIGGER payments_no_delete"],
        "is missing"),
    "chain trigger dropped": lambda dialect: (
        [f"DROP TRIGGER accounts_chain{' ON accounts' if dialect == 'postgresql' else ''}"],
        "guard accounts_chain on accounts is missing"),
    "guard altered": _function_altered,
    "trigger disabled": _trigger_disabled,
    "foreign trigger added": lambda dialect: (
        ["CREATE TRIGGER sneaky BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION vosbench_chain_lock()"
         if dialect == "postgresql" else "CREATE TRIGGER sneaky BEFORE INSERT ON payments FOR EACH ROW SET @y = 1"],
        "trigger sneaky on payments is not one vosbench installs"),
}


@pytest.mark.parametrize("change", list(GUARD_CHANGES))
def test_a_missing_altered_or_disabled_guard_is_named_by_verify(capsys, ledger, change):
    dialect, url, engine = ledger
    statements, expected = GUARD_CHANGES[change](dialect)
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    code, out = _verify(capsys, url)
    assert code == 1, out
    assert expected in out, out


def _started_until_it_waits(engine, work) -> threading.Thread:
    """``work`` started in a thread, returned once a transaction waits for a lock (or the thread has ended); SQLite
    shows no one waiting, so there the thread is given a second to reach the lock."""
    if engine.dialect.name == "sqlite":
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(1.0)
        return thread
    waiting = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'" if engine.dialect.name == "postgresql"
               else "SELECT count(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
    thread = threading.Thread(target=work)
    thread.start()
    with engine.connect() as watcher:
        while not watcher.exec_driver_sql(waiting).scalar() and thread.is_alive():
            watcher.rollback()  # a fresh look each time: PostgreSQL's activity is per transaction,
            time.sleep(0.2)  # and MariaDB refreshes INNODB_TRX only when it was not read in the last 0.1 s
    return thread


def test_writers_side_by_side_keep_one_chain(ledger):
    """The second writer's insert waits for the first's transaction: its id and its link both come after."""
    dialect, _url, engine = ledger
    insert = sa.text("INSERT INTO finding_annotations (finding_id, status, note, author, annotated_at) "
                    "VALUES (:w, 'open', :note, 'ann', '2026-11-05 10:00:00')")
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(insert, {"w": "second", "note": ""})
        except BaseException as error:  # reported by the test's own thread
            errors.append(error)

    with engine.begin() as first:
        first.execute(insert, {"w": "first", "note": ""})
        thread = _started_until_it_waits(engine, second_writer)
        first.execute(insert, {"w": "first again", "note": ""})
    thread.join()
    assert not errors
    with engine.connect() as connection:
        order = connection.execute(sa.text("SELECT finding_id FROM finding_annotations ORDER BY id")).scalars().all()
    assert order == ["first", "first again", "second"]
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.problems)
    assert result.fingerprint["finding_annotations"]["rows"] == 3


def test_archive_then_purge_on_a_server_keeps_reconcile_and_verify(ledger, tmp_path, capsys):
    dialect, url, engine = ledger
    months = ("2026-10", "2026-11")
    before = {month: _figures(engine, month) for month in months}
    folder = tmp_path / "archive"
    code = main.main(["archive", "--before", "2026-10", "--by", "bob", "--out", str(folder), "--db", url, "--compact"])
    out, err = capsys.readouterr()
    assert code == 0 and "7 records purged" in out, out + err
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT id FROM payments ORDER BY id").scalars().all() == [4, 5, 7]
    assert {month: _figures(engine, month) for month in months} == before
    assert _verify(capsys, url)[0] == 0
    with pytest.raises(sa.exc.DBAPIError, match="payments is append-only"), engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM payments WHERE id = 4")
    # rows deleted under a purged range made up for them: the range names no archive the ledger holds
    behind_guards(engine, "INSERT INTO purged_ranges (archive_id, table_name, first_id, last_id, previous_hash, "
                          "last_hash) SELECT 1, 'payments', 4, 4, hash, hash FROM payments WHERE id = 4",
                  tables=("purged_ranges",))
    with engine.begin() as connection:  # the made-up range now lets the guard through
        connection.exec_driver_sql("DELETE FROM payments WHERE id = 4")
    code, out = _verify(capsys, url)
    assert code == 1 and "purged range payments 4–4 is not in its manifest" in out, out


payment_rows = st.lists(st.tuples(st.sampled_from(["C1", "C2"]), st.integers(0, 3), st.integers(1, 27),
                                  st.integers(-5_000, 90_000).filter(bool)), min_size=1, max_size=12)


@pytest.mark.parametrize("dialect", SERVERS)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=payment_rows, cut=st.integers(1, 3))
def test_archive_purge_reconcile_gives_the_same_figures_on_a_server(request, tmp_path_factory, dialect, rows, cut):
    folder = tmp_path_factory.mktemp("property")
    _url, engine = _ledger(_server(request, dialect), folder / "in", accounts=ACCOUNTS)
    months = ["2026-07", "2026-08", "2026-09", "2026-10"]
    payments = [NewPayment(f"k{index}", account, Kind.DEPOSIT if amount > 0 else Kind.WITHDRAWAL, amount * 100,
                           datetime.fromisoformat(f"{months[month]}-{day:02d}T12:00:00"), "ann", Channel.ADMIN,
                           Method.CASH) for index, (account, month, day, amount) in enumerate(rows)]
    append_batch(engine, "payments", payments, source="csv", file="payments.csv")
    for month in months[:-1]:
        month_close.close(engine, month, by="sue", at=datetime(2026, 11, 1))
    kept = months[cut:]
    before = {month: _figures(engine, month) for month in kept}
    with contextlib.suppress(archive.NothingToArchive):
        archive.write(engine, months[cut], folder / "archive", by="sue")
        archive.purge(engine, folder / "archive", by="sue")
    assert {month: _figures(engine, month) for month in kept} == before
    assert verification.verify(engine).ok
    engine.dispose()


@pytest.mark.parametrize("dialect", SERVERS)
def test_a_server_ledger_made_before_row_chains_gets_them_when_opened(request, tmp_path, dialect):
    """Its rows are linked as they are; the guards of the earlier form are replaced."""
    url, engine = _ledger(_server(request, dialect), tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)
    on = " ON {}" if dialect == "postgresql" else ""
    earlier = ["DROP TRIGGER payments_no_delete",  # MariaDB's delete guard before purges
               "CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments FOR EACH ROW SIGNAL SQLSTATE '45000' "
               f"SET MESSAGE_TEXT = 'payments {guards.REFUSAL}'"] if dialect != "postgresql" else []
    with engine.begin() as connection:
        for guard in guards.expected_guards(dialect):
            if guard.table and (guard.name.endswith(("_chain", "_chain_lock")) or guard.table == "row_links"):
                connection.exec_driver_sql(f"DROP TRIGGER {guard.name}{on.format(guard.table)}")
        connection.exec_driver_sql("DELETE FROM chain_heads WHERE name NOT IN ('payments', 'charges', "
                                   "'balance_snapshots')")
        connection.exec_driver_sql("DELETE FROM row_links")
        for statement in earlier:
            connection.exec_driver_sql(statement)
    engine.dispose()
    engine = database.make_engine(url)
    setup.upgrade(engine)
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.problems)
    assert not result.not_checked
    assert result.fingerprint["accounts"]["rows"] == 4 and result.fingerprint["operators"]["rows"] == 5
    engine.dispose()


@pytest.mark.parametrize("dialect", SERVERS)
def test_a_copy_to_a_server_and_back_is_linked_again_and_verifies(request, tmp_path, dialect):
    """The hashed chains arrive as stored; each destination links the other tables' rows itself."""
    from vosbench.ledger import copying

    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    engine = setup.open_ledger(source, create=True)
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM,
                                                        payments=PAYMENTS, charges=CHARGES)], default_tz="UTC")
    engine.dispose()
    server = fresh_database(_server(request, dialect), "copy")
    back = f"sqlite:///{tmp_path / 'back.sqlite'}"
    fingerprints = []
    for origin, destination in ((None, source), (source, server), (server, back)):
        if origin is not None:
            copying.copy_ledger(origin, destination)
        engine = database.make_engine(destination)
        result = verification.verify(engine)
        engine.dispose()
        assert result.ok, (destination, result.breaks, result.problems)
        fingerprints.append(result.fingerprint)
    for fingerprint in fingerprints[1:]:
        assert {name: head["rows"] for name, head in fingerprint.items()} == \
            {name: head["rows"] for name, head in fingerprints[0].items()}
        assert fingerprint["payments"] == fingerprints[0]["payments"]
    assert fingerprints[2] == fingerprints[0]  # SQLite to SQLite: every head the same again


def test_a_kept_reference_to_an_archived_payment_refuses_the_purge_on_postgresql_only(ledger, tmp_path, capsys):
    """A reversal waiting for approval names an August payment: MariaDB keeps the reference as SQLite
    does, PostgreSQL's foreign key refuses the purge and it says so, deleting nothing."""
    dialect, url, engine = ledger
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO approval_requests (requested_at, maker, account, kind, amount, currency, occurred_at, "
            "channel, method, reference, memo, reason, threshold, reverses_id) VALUES ('2026-11-04 09:00:00', "
            "'ann', 'C1', 'withdrawal', -1000000, 'USD', '2026-11-04 09:00:00', 'admin', 'cash', 'R-1', '', "
            "'reversal', 0, 1)")
    folder = tmp_path / "archive"
    archive.write(engine, "2026-10", folder, by="bob")
    if dialect == "postgresql":
        with pytest.raises(archive.ArchiveError,
                           match='Key .id.=.1. is still referenced from table "approval_requests"'):
            archive.purge(engine, folder, by="bob")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM payments").scalar() == 7
            assert connection.exec_driver_sql("SELECT count(*) FROM archives").scalar() == 0
    else:
        assert archive.purge(engine, folder, by="bob") == 7
    assert _verify(capsys, url)[0] == 0


def test_a_clerk_on_mariadb_leaves_the_guards_to_the_owner(request, tmp_path, capsys):
    """MariaDB hides triggers from logins without the TRIGGER privilege: not checked, never 'missing'."""
    from vosbench.ledger import roles

    url, engine = _ledger(_server(request, "mysql"), tmp_path / "in", accounts=ACCOUNTS)
    assert main.main(["server", "init", "--db", url]) == 0
    with engine.begin() as connection:
        roles.create_login(connection, "clerk.two", "pw-clerk", "writer")
    engine.dispose()
    clerk = sa.make_url(url).set(username="clerk.two", password="pw-clerk").render_as_string(hide_password=False)
    code, out = _verify(capsys, clerk)
    assert code == 0, out
    assert "NOT CHECKED guards of all tables: MariaDB shows a database's triggers only to logins" in out


@pytest.mark.parametrize("dialect", SERVERS)
def test_an_auditor_appends_a_note_and_the_chain_moves_though_the_role_may_not_touch_chain_heads(request, tmp_path,
                                                                                                  dialect):
    from vosbench.ledger import identity

    url, engine = _ledger(_server(request, dialect), tmp_path / "in", accounts=ACCOUNTS)
    assert main.main(["server", "init", "--db", url]) == 0
    identity.register(engine, "audit.two", "auditor", password="pw-audit")  # a registered auditor: its notes are its own
    auditor = database.make_engine(
        sa.make_url(url).set(username="audit.two", password="pw-audit").render_as_string(hide_password=False))
    try:
        with auditor.begin() as connection:
            connection.execute(sa.text("INSERT INTO finding_annotations (finding_id, status, note, author, "
                                       "annotated_at) VALUES ('F1', 'open', 'looked', 'audit.two', "
                                       "'2026-11-05 10:00:00')"))
        with pytest.raises(sa.exc.DBAPIError, match="denied"), auditor.begin() as connection:
            connection.exec_driver_sql("UPDATE chain_heads SET row_count = 0")
    finally:
        auditor.dispose()
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.problems)
    assert result.fingerprint["finding_annotations"]["rows"] == 1
    engine.dispose()


def test_a_close_receipt_and_an_evidence_pack_check_a_server_ledger(ledger, tmp_path, capsys):
    """From the receipt on, an edited account is still caught; the pack of a server's month verifies offline."""
    import json

    _dialect, url, engine = ledger
    with engine.connect() as connection:
        receipt = tmp_path / "receipt.json"
        receipt.write_text(json.dumps(month_close.history(connection)[-1].receipt))
    pack = tmp_path / "evidence-2026-10.zip"
    for argv in (["verify", "--db", url, "--anchor", str(receipt), "--since-anchor"],
                 ["evidence", "--month", "2026-10", "--out", str(pack), "--db", url], ["evidence", "verify", str(pack)]):
        assert main.main(argv) == 0, (argv, capsys.readouterr())
    capsys.readouterr()
    behind_guards(engine, "UPDATE accounts SET name = 'Someone Else' WHERE account = 'C1'", tables=("accounts",))
    assert main.main(["verify", "--db", url, "--anchor", str(receipt)]) == 1
    assert f"accounts row {_account_id(engine, 'C1')} was changed" in capsys.readouterr().out


def _charge(account: str, day: str, fee: int) -> NewCharge:
    return NewCharge(account, date.fromisoformat(day), fee, 0, 0, 1)


@pytest.mark.parametrize("dialect", SERVERS)
def test_a_charges_import_beside_a_payments_import_keeps_every_later_closing(request, tmp_path, dialect):
    """A charge back-dated into September while another importer's December payment is not yet committed: the
    charges wait for it, then shift December's closing too (every batch's row in the chained import_batches, and
    the payments head, make writers take turns)."""
    _url, engine = _ledger(_server(request, dialect), tmp_path / "in", accounts=ACCOUNTS, operators=TEAM, payments=PAYMENTS)
    errors: list[BaseException] = []

    def charges_importer() -> None:
        try:
            append_batch(engine, "charges", [_charge("C1", "2026-09-15", 300)], source="csv", file="charges.csv")
        except BaseException as error:  # reported by the test's own thread
            errors.append(error)

    with engine.begin() as first:
        append_batch(engine, "payments", [NewPayment("dec", "C1", Kind.DEPOSIT, 1_000, datetime(2026, 12, 2, 9), "ann",
                                                     Channel.ADMIN, Method.CASH)],
                     source="csv", file="december.csv", connection=first)
        thread = _started_until_it_waits(engine, charges_importer)
    thread.join()
    assert not errors
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.problems)
    with engine.connect() as connection:
        december = month_totals.stored(connection, "2026-12")
    # C1: 100 + 25 + 7 + 9 deposited up to November, 300 minor units charged in September, 1,000 deposited in December
    assert [figures["closing"] for figures in december.values()] == [(100 + 25 + 7 + 9) * UNIT - 300 + 1_000]
    engine.dispose()


@pytest.mark.parametrize(("content", "row"), [
    ("charges", _charge("C2", "2026-10-20", 500)),
    ("payments", NewPayment("late", "C2", Kind.DEPOSIT, 500, datetime(2026, 10, 20, 9), "ann", Channel.ADMIN, Method.CASH))])
def test_a_record_for_a_month_being_closed_waits_and_is_refused(any_ledger_url, tmp_path, content, row):
    """An import into October that starts while October's close is being recorded waits for the close and is then
    refused in words: it had read October open and wrote into it once the close committed."""
    _url, engine = _ledger_at(any_ledger_url, tmp_path / "in", accounts=ACCOUNTS, operators=TEAM, payments=PAYMENTS,
                              charges=CHARGES)
    outcome: list[BaseException] = []

    def importer() -> None:
        try:
            append_batch(engine, content, [row], source="csv", file="late.csv")
        except BaseException as error:  # reported by the test's own thread
            outcome.append(error)

    with engine.connect() as connection:
        before = {name: connection.scalar(sa.text(f"SELECT count(*) FROM {name}")) for name in ("payments", "charges")}
    threads = []
    for month in ("2026-08", "2026-09"):
        month_close.close(engine, month, by="bob", second="cy", at=datetime(2026, 11, 2))
    month_close.close(engine, "2026-10", by="bob", second="cy", at=datetime(2026, 11, 2),
                      deliver=lambda _receipt: threads.append(_started_until_it_waits(engine, importer)))
    threads[0].join()
    assert [type(error) for error in outcome] == [ImportRejected]
    assert "2026-10 is closed (by bob" in str(outcome[0])
    with engine.connect() as connection:
        assert {name: connection.scalar(sa.text(f"SELECT count(*) FROM {name}")) for name in before} == before
    assert verification.verify(engine).ok
    engine.dispose()


def test_two_people_closing_one_month_at_once_close_it_once(any_ledger_url, tmp_path):
    """A second close of October, begun while the first is being recorded, waits for it and is refused: both had
    read October open, and the month was closed twice."""
    _url, engine = _ledger_at(any_ledger_url, tmp_path / "in", accounts=ACCOUNTS, operators=TEAM, payments=PAYMENTS)
    for month in ("2026-08", "2026-09"):
        month_close.close(engine, month, by="bob", second="cy", at=datetime(2026, 11, 2))
    outcome: list[BaseException] = []

    def second_closer() -> None:
        try:
            month_close.close(engine, "2026-10", by="cy", second="bob", at=datetime(2026, 11, 2))
        except BaseException as error:  # reported by the test's own thread
            outcome.append(error)

    threads = []
    month_close.close(engine, "2026-10", by="bob", second="cy", at=datetime(2026, 11, 2),
                      deliver=lambda _receipt: threads.append(_started_until_it_waits(engine, second_closer)))
    threads[0].join()
    assert [str(error) for error in outcome] == ["2026-10 is already closed; reopen it first to change it "
                                                 "(`vosbench reopen --month 2026-10 --by LOGIN --second LOGIN --reason TEXT`)"]
    with engine.connect() as connection:
        assert [(event.month, event.action) for event in month_close.history(connection)] == [
            ("2026-08", "close"), ("2026-09", "close"), ("2026-10", "close")]
    engine.dispose()


def test_the_same_file_imported_twice_at_once_is_added_once_and_the_second_told_so(any_ledger_url, tmp_path):
    """The second import of the same payments, begun while the first is not yet committed, waits and finds them all
    present, as when run one after the other (it had read them absent and was refused by the unique key)."""
    _url, engine = _ledger_at(any_ledger_url, tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)
    rows = [NewPayment(f"k{day}", "C1", Kind.DEPOSIT, day * UNIT, datetime(2026, 10, day, 9), "ann", Channel.ADMIN,
                       Method.CASH) for day in range(1, 11)]
    outcome: list = []

    def second_importer() -> None:
        try:
            outcome.append(append_batch(engine, "payments", rows, source="csv", file="payments.csv"))
        except BaseException as error:  # reported by the test's own thread
            outcome.append(error)

    with engine.begin() as first:
        added = append_batch(engine, "payments", rows, source="csv", file="payments.csv", connection=first).added
        thread = _started_until_it_waits(engine, second_importer)
    thread.join()
    assert added == 10
    assert [(result.added, result.skipped) for result in outcome] == [(0, 10)]
    assert verification.verify(engine).ok
    engine.dispose()
