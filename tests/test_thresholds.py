"""Approval thresholds held by the ledger: seeded once, set by supervisors only, enforced by the database.

Every claim is tried by breaking it: a clerk whose controls.yaml was edited, a clerk's own SQL
posting an unapproved deposit above the threshold (under another source, with a forged
approver), a clerk setting a threshold (through vosbench and through SQL), an edited or deleted
setting, a ledger from before the table, hostile command-line input; on a real SQLite file
and, where the database is what enforces it, on private PostgreSQL and MariaDB servers too.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, write_ledger_files
from raw_rows import carry_head
from team_ledger import build, login_engine

from vosbench.commands import main
from vosbench.controls import runner
from vosbench.core.money import UNIT
from vosbench.ledger import approvals, copying, guards, identity, policy, setup, tables, thresholds, verification
from vosbench.ledger.policy import ControlSettings, from_mapping
from vosbench.sources import csv_import

NO_FILE = ControlSettings()
"""A client's settings without thresholds: the ledger's alone hold its entries."""
AT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
INSERT_PAYMENT = sa.text(
    "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, reference, "
    "memo, reason, approved_by, source, source_key, hash) VALUES ((SELECT id FROM accounts WHERE account = 'C1'), "
    "'deposit', :amount, :at, :now, :operator, 'admin', 'cash', '', '', '', :approved_by, :source, :key, :hash)",
).bindparams(sa.bindparam("at", type_=tables.UtcTime), sa.bindparam("now", type_=tables.UtcTime))
INSERT_SETTING = sa.text(
    "INSERT INTO approval_thresholds (currency, kind, amount, set_by, set_at, reason) "
    "VALUES ('USD', 'deposit', :amount, :set_by, :at, 'mine')").bindparams(sa.bindparam("at", type_=tables.UtcTime))


def _post(engine, *, amount: int, source: str = "vosbench", approved_by: str = "", operator: str = "ann") -> None:
    """A payment row written with plain SQL, as someone with their own client would."""
    with engine.begin() as connection:
        connection.execute(INSERT_PAYMENT, {"amount": amount, "at": AT.replace(tzinfo=None), "operator": operator,
                                            "now": datetime.now(UTC).replace(tzinfo=None),  # a server holds it to its clock
                                            "approved_by": approved_by, "source": source,
                                            "key": f"{source}-{amount}-{approved_by}", "hash": "0" * 64})
        carry_head(connection, "payments")


def _set(engine, *, amount: int, set_by: str) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT_SETTING, {"amount": amount, "set_by": set_by, "at": AT.replace(tzinfo=None)})


def _payments(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(tables.payments))


def _sqlite_team(tmp_path) -> str:
    return build(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path / "in")


def test_a_new_ledger_takes_its_controls_files_thresholds_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = setup.open_ledger(url, create=True, controls=from_mapping({"approval_thresholds": {"USD": {"deposit": "700.00"}}}))
    reopened = setup.open_ledger(url, controls=from_mapping({"approval_thresholds": {"USD": {"deposit": "900.00"}}}))
    with reopened.connect() as connection:
        assert thresholds.in_force(connection) == {"USD": {"deposit": 700 * UNIT}}
        (setting,) = thresholds.history(connection).itertuples()
    assert (setting.set_by, setting.amount) == (thresholds.INSTALLER, 700 * UNIT) and pd.isna(setting.previous)
    assert verification.verify(engine).ok


def test_a_clerk_with_an_edited_controls_file_still_waits_for_a_supervisor(tmp_path, monkeypatch, capsys):
    url = _sqlite_team(tmp_path)
    edited = tmp_path / "controls.yaml"
    edited.write_text('approval_thresholds:\n  USD: {deposit: "99999999.00"}\n', encoding="utf-8")
    monkeypatch.setattr(policy, "DEFAULT_FILE", edited)  # the clerk's own copy of parameters/controls.yaml

    assert main.main(["record", "--db", url, "--account", "C1", "--kind", "deposit", "--amount", "12000.00",
                      "--operator", "ann"]) == 0
    assert "pending approval: request 1" in capsys.readouterr().out
    done = approvals.submit(login_engine(url, "ann"), policy.load(edited), account="C1", kind="deposit",
                            amount="15000.00", operator="ann", occurred_at=AT)
    assert done.status == "pending" and done.threshold == 10_000 * UNIT
    assert _payments(login_engine(url, "ann")) == 0


def test_the_database_refuses_a_persons_unapproved_entry_at_or_above_the_threshold(team_url):
    clerk = login_engine(team_url, "ann")
    on_server = clerk.dialect.name != "sqlite"
    refused = [dict(amount=10_000 * UNIT), dict(amount=12_000 * UNIT, approved_by="ann"),  # the maker's own
               dict(amount=12_000 * UNIT, approved_by="alice"),  # a clerk is no approver
               dict(amount=12_000 * UNIT, approved_by="bob")]  # nor is a supervisor's name without a request
    if on_server:  # the login is what the server vouches for: another source is no way round
        refused += [dict(amount=12_000 * UNIT, source="vos3000")]
    for row in refused:
        with pytest.raises(sa.exc.DBAPIError, match="approval threshold in force is refused"):
            _post(clerk, **row)
    supervisor = login_engine(team_url, "bob")
    with pytest.raises(sa.exc.DBAPIError, match="approval threshold in force is refused"):
        _post(supervisor, amount=12_000 * UNIT, approved_by="bob")  # a supervisor alone, under ann's name
    if on_server:  # nor by entering a request in ann's name first
        with pytest.raises(sa.exc.DBAPIError, match="the maker of a request is the login that enters it"), \
                supervisor.begin() as connection:
            approvals._pending(connection, maker="ann", account="C1", kind="deposit", amount=12_000 * UNIT,
                               currency="USD", occurred_at=AT.replace(tzinfo=None), channel="admin", method="cash",
                               reference="", memo="", reason="", threshold=10_000 * UNIT)
    assert _payments(clerk) == 0
    # the approved way: the supervisor's login posts the entry they approve
    done = approvals.submit(clerk, NO_FILE, account="C1", kind="deposit", amount="12000.00", operator="ann",
                            occurred_at=AT)
    approvals.approve(login_engine(team_url, "bob"), done.id, checker="bob")
    _post(clerk, amount=9_999 * UNIT)  # below it the database lets a clerk's row in (the chain shows it is no record)
    assert _payments(clerk) == 2


def test_history_from_another_source_still_imports_and_the_audit_flags_it(team_url, tmp_path):
    owner = setup.open_ledger(team_url)  # the owner's import: history, no person's entry
    payments = ("source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,"
                "balance_after,reverses,approved_by\nh1,C1,deposit,50000.00,2026-10-02T10:00:00Z,ann,admin,cash,,,,,,")
    csv_import.import_paths(owner, [write_ledger_files(tmp_path / "history", accounts=ACCOUNTS, payments=payments)],
                            default_tz="UTC")
    (finding,) = runner.run(owner, "2026-10", NO_FILE, ["unapproved_above_threshold"]).findings
    assert finding.payment_ids == (1,) and "10,000.00 USD" in finding.explanation


def test_only_a_supervisor_sets_a_threshold_and_lowering_one_holds_the_next_entry(team_url):
    clerk, supervisor = login_engine(team_url, "ann"), login_engine(team_url, "bob")
    with pytest.raises(identity.IdentityError, match="operator ann is a clerk; only a supervisor sets approval"):
        thresholds.set_threshold(clerk, currency="USD", kind="deposit", amount="50000.00", operator="ann",
                                 reason="mine")
    forged = ["ann", thresholds.INSTALLER] + (["bob"] if clerk.dialect.name != "sqlite" else [])
    for set_by in forged:  # a clerk's own SQL: as themselves, as the installer, under a supervisor's name
        with pytest.raises(sa.exc.DBAPIError, match="only a supervisor sets an approval threshold"):
            _set(clerk, amount=50_000 * UNIT, set_by=set_by)

    change = thresholds.set_threshold(supervisor, currency="USD", kind="deposit", amount="5000.00", operator="bob")
    assert (change.previous, change.amount, change.set_by) == (10_000 * UNIT, 5_000 * UNIT, "bob")
    done = approvals.submit(clerk, NO_FILE, account="C1", kind="deposit", amount="6000.00", operator="ann",
                            occurred_at=AT)
    assert (done.status, done.threshold) == ("pending", 5_000 * UNIT)
    with pytest.raises(sa.exc.DBAPIError, match="approval threshold in force is refused"):
        _post(clerk, amount=6_000 * UNIT)
    with pytest.raises(thresholds.ThresholdError, match="raising the USD deposit threshold from 5,000.00 to "
                                                        "8,000.00 needs a reason"):
        thresholds.set_threshold(supervisor, currency="USD", kind="deposit", amount="8000.00", operator="bob")
    with supervisor.connect() as connection:
        history = thresholds.history(connection)
    last = history.iloc[-1]
    assert (last["currency"], last["kind"], last["previous"], last["amount"], last["set_by"]) == (
        "USD", "deposit", 10_000 * UNIT, 5_000 * UNIT, "bob")
    assert verification.verify(setup.open_ledger(team_url)).ok


def test_the_audit_holds_each_record_to_the_threshold_in_force_when_it_was_recorded(tmp_path):
    url = _sqlite_team(tmp_path)
    engine = setup.open_ledger(url)
    line = "source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after," \
           "reverses,approved_by\n{key},C1,deposit,7000.00,2026-10-0{day}T10:00:00Z,ann,admin,cash,,,,,,"

    def import_deposit(key: str, day: int) -> None:
        csv_import.import_paths(engine, [write_ledger_files(tmp_path / key, accounts=ACCOUNTS,
                                                            payments=line.format(key=key, day=day))], default_tz="UTC")

    import_deposit("before", 2)  # under the 10,000.00 in force then
    thresholds.set_threshold(engine, currency="USD", kind="deposit", amount="5000.00", operator="bob")
    import_deposit("after", 3)
    (finding,) = runner.run(engine, "2026-10", NO_FILE, ["unapproved_above_threshold"]).findings
    assert finding.payment_ids == (2,) and "5,000.00 USD" in finding.explanation


def test_an_edited_or_deleted_setting_is_refused_and_its_chain_shows_it(tmp_path):
    url = _sqlite_team(tmp_path)
    path = tmp_path / "ledger.sqlite"
    with sqlite3.connect(path) as raw:
        for statement in ("UPDATE approval_thresholds SET amount = 1 WHERE id = 1",
                          "DELETE FROM approval_thresholds WHERE id = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="approval_thresholds is append-only"):
                raw.execute(statement)
        # whoever holds the file can drop the guards; the chain and the guards' comparison show it
        raw.execute("DROP TRIGGER approval_thresholds_no_update")
        raw.execute("UPDATE approval_thresholds SET amount = 999999999999 WHERE currency = 'USD' AND kind = 'deposit'")
        raw.execute("DROP TRIGGER payments_threshold")
    raw.close()
    result = verification.verify(setup.open_ledger(url))
    assert [breach.table for breach in result.breaks] == ["approval_thresholds"]
    missing = " ".join(problem.message for problem in result.problems)
    assert "approval_thresholds_no_update" in missing and "payments_threshold" in missing


def test_a_ledger_from_before_the_thresholds_migrates_and_verifies(tmp_path, capsys):
    path = tmp_path / "old.sqlite"
    url = f"sqlite:///{path}"
    setup.open_ledger(url, create=True, controls=NO_FILE).dispose()  # no settings, hence no links to remove
    with sqlite3.connect(path) as raw:  # what vosbench made before the thresholds were the ledger's
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (tbl_name = "
                                   "'approval_thresholds' OR name = 'payments_threshold')").fetchall():
            raw.execute(f"DROP TRIGGER {name}")
        raw.execute("DROP TABLE approval_thresholds")
        raw.execute("DELETE FROM chain_heads WHERE name = 'approval_thresholds'")
    raw.close()
    assert main.main(["verify", "--db", url]) == 1
    assert "approval_thresholds is missing" in capsys.readouterr().out

    migrated = setup.open_ledger(url, controls=from_mapping({"approval_thresholds": {"EUR": {"bonus": "300.00"}}}))
    with migrated.connect() as connection:
        assert thresholds.in_force(connection) == {"EUR": {"bonus": 300 * UNIT}}
    migrated.dispose()
    assert main.main(["verify", "--db", url]) == 0


@pytest.mark.parametrize("arguments, message", [
    (["--currency", "usd", "--amount", "5000.00"], "--currency 'usd' is not an ISO 4217 currency of money"),
    (["--currency", "US", "--amount", "5000.00"], "--currency 'US' is not an ISO 4217 currency of money"),
    (["--currency", "XXX", "--amount", "5000.00"], "--currency 'XXX' is not an ISO 4217 currency of money"),
    (["--currency", "XAU", "--amount", "5000.00"], "--currency 'XAU' is not an ISO 4217 currency of money"),
    (["--currency", "XTS", "--amount", "5000.00"], "--currency 'XTS' is not an ISO 4217 currency of money"),
    (["--currency", "JPY", "--amount", "1000.5"], "--amount 1000.5: JPY amounts have no decimals; give e.g. 1000"),
    (["--currency", "USD", "--amount", "5000.125"], "--amount 5000.125: USD amounts have 2 decimal places; give e.g. 5000.12"),
    (["--currency", "KWD", "--amount", "300.0005"], "--amount 300.0005: KWD amounts have 3 decimal places; give e.g. 300.000"),
    (["--amount", "1e3"], "'1e3' is not a number written as decimal text"),
    (["--amount", "-5.00"], "--amount -5.00: a threshold must be above zero"),
    (["--amount", "0"], "--amount 0: a threshold must be above zero"),
    (["--kind", "gift", "--amount", "5.00"], "--kind: unknown value 'gift'"),
    (["--amount", "20000.00", "--reason", "  "], "needs a reason (--reason TEXT)"),
    (["--amount", "20000.00", "--reason", "\u200b\u00a0\ufeff"], "needs a reason (--reason TEXT)"),  # shows nothing
    (["--amount", "10000.00"], "is 10,000.00 already"),
    (["--amount", "5000.00", "--operator", "ann"], "operator ann is a clerk; only a supervisor"),
    (["--amount", "5000.00", "--operator", "zed"], "operator 'zed' is not registered"),
])
def test_hostile_input_gets_one_line_and_exit_2(tmp_path, capsys, arguments, message):
    url = _sqlite_team(tmp_path)
    given = dict(zip(arguments[::2], arguments[1::2]))
    argv = ["thresholds", "set", "--db", url, "--currency", given.pop("--currency", "USD"),
            "--kind", given.pop("--kind", "deposit"), "--operator", given.pop("--operator", "bob"),
            *(item for pair in given.items() for item in pair)]
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_listing_shows_what_is_in_force_and_every_change(tmp_path, capsys):
    url = _sqlite_team(tmp_path)
    assert main.main(["thresholds", "set", "--db", url, "--currency", "USD", "--kind", "bonus", "--amount", "2000.00",
                      "--reason", "bigger promotions", "--operator", "bob"]) == 0
    assert "USD bonus approval threshold: 1,000.00 → 2,000.00 (set by bob)" in capsys.readouterr().out
    assert main.main(["thresholds", "list", "--db", url, "--format", "csv"]) == 0
    in_force = capsys.readouterr().out
    assert "USD,bonus,1000.0000,2000.0000,bob,bigger promotions" in in_force.replace('"', "")
    assert main.main(["thresholds", "list", "--all", "--db", url, "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("USD,bonus") == 2


def test_a_raise_by_a_supervisor_governs_entries_without_a_controls_file(tmp_path, capsys):
    url = _sqlite_team(tmp_path)  # seeded from the installed controls file: USD deposit 10,000.00
    assert main.main(["thresholds", "set", "--db", url, "--currency", "USD", "--kind", "deposit", "--amount", "20000.00",
                      "--reason", "wholesale wires", "--operator", "bob"]) == 0
    capsys.readouterr()
    entry = ["record", "--db", url, "--account", "C1", "--kind", "deposit", "--operator", "ann", "--method", "bank_wire"]
    assert main.main([*entry, "--amount", "15000.00"]) == 0
    assert capsys.readouterr().out.startswith("recorded payment")  # the installed file's 10,000 no longer holds it
    assert main.main([*entry, "--amount", "20000.00"]) == 0
    assert "at or above the USD deposit threshold 20,000.00" in capsys.readouterr().out
    (tmp_path / "strict.yaml").write_text('approval_thresholds:\n  USD: {deposit: "12000.00"}\n', encoding="utf-8")
    assert main.main([*entry, "--amount", "15000.00", "--controls", str(tmp_path / "strict.yaml")]) == 0
    assert "at or above the USD deposit threshold 12,000.00" in capsys.readouterr().out  # a named file still tightens


def test_the_databases_rule_names_the_same_makers_and_installer_as_vosbench():
    assert guards.MAKER_ROLES == identity.MAKERS
    (setter,) = [guard for guard in guards.expected_guards("sqlite") if guard.name == "approval_thresholds_setter"]
    assert f"NEW.set_by = '{thresholds.INSTALLER}'" in setter.sql


def test_a_copy_keeps_the_thresholds_and_the_approved_entries(team_url, tmp_path):
    supervisor, clerk = login_engine(team_url, "bob"), login_engine(team_url, "ann")
    thresholds.set_threshold(supervisor, currency="USD", kind="deposit", amount="5000.00", operator="bob")
    done = approvals.submit(clerk, NO_FILE, account="C1", kind="deposit", amount="6000.00", operator="ann",
                            occurred_at=AT)
    approvals.approve(supervisor, done.id, checker="bob")
    copy = f"sqlite:///{tmp_path / 'copy.sqlite'}"

    copying.copy_ledger(team_url, copy)

    copied = setup.open_ledger(copy)
    with copied.connect() as connection, supervisor.connect() as original:
        assert thresholds.history(connection).equals(thresholds.history(original))
        assert connection.scalar(sa.select(tables.payments.c.approved_by)) == "bob"
    assert verification.verify(copied).ok
    with pytest.raises(sa.exc.DBAPIError, match="approval threshold in force is refused"):
        _post(copied, amount=5_000 * UNIT)  # the copy's guards are back in place
