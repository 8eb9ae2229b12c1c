"""The VOS3000 database sync, against a real MariaDB server with VOS3000's real tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from vosbench.analysis import reconcile
from vosbench.core import money
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import database, month_close, setup
from vosbench.ledger.write_door import NewPayment, append_batch
from vosbench.outputs.provenance import synced_streams
from vosbench.sources.vos3000 import dbsync, generate, mapping, payreader, schema, source, state
from vosbench.sources.vos3000.convert import to_epoch_ms

NOW = datetime(2026, 11, 2, 12, 0)  # the sync's moment: October's days are closed


def _ledger(tmp_path, name="ledger"):
    return setup.open_ledger(f"sqlite:///{tmp_path / name}.sqlite", create=True, timezone="UTC")


def _sync(ledger, url, **options):
    options.setdefault("mapping", mapping.load())
    return dbsync.sync_database(ledger, url, progress=False, now=NOW, **options)


def _rows(engine, sql, **params):
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).all()


def test_sync_reproduces_every_balance_of_e_customer(tmp_path, vos_url):
    written = generate.write_dataset(vos_url, generate.DatasetSpec(customers=30, days=5, payments=300,
                                                                   calls_per_day=400))
    ledger = _ledger(tmp_path)
    report = _sync(ledger, vos_url)
    assert report.payment_rows_read == written.payment_rows
    assert report.cdr_rows_read == written.cdr_rows
    result = reconcile.reconcile(ledger, "2026-11")
    table = result.accounts.set_index("account")
    assert set(table.index) == set(written.balances)
    assert (table["classification"] == reconcile.AGREES).all(), table[table["difference"] != 0]
    assert {account: int(table.at[account, "recorded_closing"]) for account in table.index} == written.balances
    # every payment keeps its e_payhistory.id; charges add up to the CDR fees exactly
    vos = sa.create_engine(vos_url)
    ids = {str(row[0]) for row in _rows(vos, "SELECT id FROM e_payhistory WHERE paymoney <> 0")}
    assert {row[0] for row in _rows(ledger, "SELECT source_key FROM payments WHERE source = 'vos3000'")} == ids
    fees = sum(money.from_double(row[0]) for day in written.charge_days
               for row in _rows(vos, f"SELECT fee FROM {schema.daily_cdr_name(day)}"))
    assert _rows(ledger, "SELECT SUM(call_fee) FROM charges")[0][0] == fees
    assert ("charges 2026-10-02 from e_cdr_20261001, e_cdr_20261002, e_cdr_20261003, e_cdr, e_consumption",) in _rows(
        ledger, "SELECT file_name FROM import_batches WHERE content = 'charges'")
    vos.dispose()


def test_a_sync_reads_the_ledger_unmapped_as_an_import_does(tmp_path, vos_url):
    """A page read through SQLite's map stays resident: a large sync held as much of the ledger as it read back."""
    generate.write_dataset(vos_url, generate.DatasetSpec(customers=5, days=2, payments=20, calls_per_day=20))
    ledger = _ledger(tmp_path)
    mapped: set[int] = set()
    listener = lambda connection, *_statement: mapped.add(  # noqa: E731 (the event's arguments, unnamed)
        connection.connection.driver_connection.execute("PRAGMA mmap_size").fetchone()[0])
    sa.event.listen(ledger, "before_cursor_execute", listener)
    _sync(ledger, vos_url)
    sa.event.remove(ledger, "before_cursor_execute", listener)
    assert mapped == {0}
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() == database.MAPPED_BYTES


def test_a_second_sync_adds_nothing_and_new_rows_are_picked_up(tmp_path, vos_url):
    generate.write_dataset(vos_url, generate.DatasetSpec(customers=10, days=3, payments=60, calls_per_day=50))
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url)
    counts = _rows(ledger, "SELECT (SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM charges), "
                           "(SELECT COUNT(*) FROM import_batches)")
    again = _sync(ledger, vos_url)
    assert (again.payments_added, again.charges_added, again.snapshots_added, again.accounts_added) == (0, 0, 0, 0)
    assert again.payment_rows_read == 0  # the high-water mark: nothing re-read
    assert _rows(ledger, "SELECT (SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM charges), "
                         "(SELECT COUNT(*) FROM import_batches)") == counts
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:  # one more recharge arrives in VOS3000
        last_id, balance = connection.execute(sa.text(
            "SELECT id, customermoney FROM e_payhistory WHERE customeraccount = 'C000001' ORDER BY id DESC LIMIT 1")).one()
        connection.execute(schema.e_payhistory.insert().values(
            id=last_id + 10_000, customeraccount="C000001", customername="Customer C000001", paymoney=25.0,
            time=to_epoch_ms(datetime(2026, 11, 1, 9)), customermoney=balance + 25.0, memo="late", paytype=0,
            type=0, loginname="admin", agentaccount="A002", agentname="Agent A002"))
    vos.dispose()
    later = _sync(ledger, vos_url)
    assert (later.payment_rows_read, later.payments_added) == (1, 1)
    assert _rows(ledger, "SELECT amount, kind FROM payments WHERE source_key = :key", key=str(last_id + 10_000)) == [
        (250_000, "deposit")]


def test_a_changed_customer_is_a_new_version_and_a_late_recharge_a_prior_period_item(tmp_path, vos_url):
    generate.write_dataset(vos_url, generate.DatasetSpec(customers=10, days=3, payments=60, calls_per_day=50))
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url)
    month_close.close(ledger, "2026-10", by="sue", at=NOW)
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:  # the switch renames a customer, and a recharge of October turns up late
        connection.execute(sa.text("UPDATE e_customer SET name = 'Renamed Trading' WHERE account = 'C000001'"))
        last_id, balance = connection.execute(sa.text(
            "SELECT id, customermoney FROM e_payhistory WHERE customeraccount = 'C000001' ORDER BY id DESC LIMIT 1")).one()
        connection.execute(schema.e_payhistory.insert().values(
            id=last_id + 10_000, customeraccount="C000001", customername="Customer C000001", paymoney=25.0,
            time=to_epoch_ms(datetime(2026, 10, 20, 9)), customermoney=balance + 25.0, memo="late", paytype=0,
            type=0, loginname="admin", agentaccount="A002", agentname="Agent A002"))
    vos.dispose()
    later = _sync(ledger, vos_url)
    assert later.payments_added == 1
    assert _rows(ledger, "SELECT name FROM current_accounts WHERE account = 'C000001'") == [("Renamed Trading",)]
    assert _rows(ledger, "SELECT changed_by FROM account_versions") == [("vos3000",)]
    assert _rows(ledger, "SELECT p.occurred_at, i.closed_month, i.posted_month FROM prior_period_items i "
                         "JOIN payments p ON p.id = i.payment_id") == [("2026-11-01 00:00:00.000000", "2026-10", "2026-11")]
    assert _sync(ledger, vos_url).payments_added == 0


def _payhistory(connection, *records):
    """Insert e_payhistory rows given as (id, account, paymoney, customermoney, type)."""
    for record_id, account, paymoney, customermoney, type_code in records:
        connection.execute(schema.e_payhistory.insert().values(
            id=record_id, customeraccount=account, customername=f"Customer {account}", paymoney=paymoney,
            time=to_epoch_ms(datetime(2026, 10, 1, 10)) + record_id * 60_000, customermoney=customermoney,
            memo="", paytype=0, type=type_code, loginname="admin", agentaccount="", agentname=""))


def _switch_with_c1(vos_url: str, money: float):
    """VOS3000's tables on the test server, with customer C1 holding ``money``; the engine to write more."""
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:
        schema.create_tables(connection)
        connection.execute(schema.e_customer.insert().values(
            id=1, account="C1", name="One", type=0, money=money, limitmoney=0.0, todayconsumption=0.0, locktype=0,
            status=1, starttime=0, validtime=0, lastupdatetime=0, memo="", timezoneid=0, customer_id=0,
            feerategroup_id=0))
    return vos


def test_signs_come_from_consecutive_balances_and_disagreements_are_flagged(tmp_path, vos_url):
    vos = _switch_with_c1(vos_url, 80.1)
    with vos.begin() as connection:
        _payhistory(connection,
                    (1, "C1", 100.0, 100.0, 2),    # account opening: first record, the rule decides (+)
                    (2, "C1", 20.0, 80.0, 1),      # deduction with a positive paymoney: the balance fell by 20
                    (3, "C1", -5.0, 75.0, 1),      # deduction stored negative: the balance fell by 5
                    (4, "C1", 5.1, 80.1, 1),       # a "deduction" whose balance ROSE by 5.10: flagged
                    (5, "C1", 0.0, 80.1, 3),       # make-zero of nothing: not a movement
                    (6, "XDELETED", 10.0, 10.0, 0))  # an account e_customer no longer holds
    vos.dispose()
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url)
    rows = _rows(ledger, "SELECT source_key, kind, amount, reason FROM payments ORDER BY id")
    assert [(key, kind, amount) for key, kind, amount, _ in rows] == [
        ("1", "adjustment", 1_000_000), ("2", "withdrawal", -200_000), ("3", "withdrawal", -50_000),
        ("4", "adjustment", 51_000), ("6", "deposit", 100_000)]
    assert "account opening" in rows[0][3]
    flagged = {(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000")}
    assert flagged == {("4", "sign_disagrees"), ("4", "kind_changed"), ("5", "zero_amount"),
                       ("XDELETED", "account_not_in_e_customer")}
    assert _rows(ledger, "SELECT balance FROM balance_snapshots b JOIN accounts a ON a.id = b.account_id "
                         "WHERE a.account = 'C1'") == [(801_000,)]


def test_the_switchs_record_of_a_pay_deposit_is_not_added_again_by_the_database_sync(tmp_path, vos_url):
    vos = _switch_with_c1(vos_url, 112.5)
    with vos.begin() as connection:
        _payhistory(connection, (1, "C1", 100.0, 100.0, 2))
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url)
    asked = datetime(2026, 10, 1, 10, 6, 50)  # `--pay` asked the switch 10 s before it wrote record 7
    paid = append_batch(ledger, "payments", [NewPayment(
        f"pay/C1/{to_epoch_ms(asked)}", "C1", Kind.DEPOSIT, 125_000, asked, "ops", Channel.API, Method.GATEWAY,
        balance_after=1_125_000)], source="vos3000-api", file="Pay").ids[0]
    with vos.begin() as connection:
        _payhistory(connection, (7, "C1", 12.5, 112.5, 0))
    vos.dispose()
    report = _sync(ledger, vos_url)
    assert (report.payments_added, report.payments_present) == (0, 1)
    assert _rows(ledger, "SELECT source, amount FROM payments WHERE kind = 'deposit'") == [("vos3000-api", 125_000)]
    assert [(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000")] == [("7", "pay_recorded")]
    assert f"payment {paid};" in state.flags(ledger, "vos3000")[0].detail


def test_every_text_and_every_id_is_read_exactly_whatever_it_holds(tmp_path, vos_url):
    """The server concatenates rows into texts split on a separator: a memo holding that
    separator, quotes or any script, and ids far apart, still come through exactly."""
    memos = {1: "plain", 2: "unit\x1fseparator", 3: "comma, 'quote' \"double\"", 12_000: "ünïcödé ☎ 充值",
             12_001: "", 12_002: "last"}
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:
        schema.create_tables(connection)
        for record_id, memo in memos.items():
            connection.execute(schema.e_payhistory.insert().values(
                id=record_id, customeraccount="C1", customername="One", paymoney=10.25,
                time=to_epoch_ms(datetime(2026, 10, 1, 10)) + record_id, customermoney=10.25 * record_id, memo=memo,
                paytype=0, type=0, loginname="ops\x1f2" if record_id == 3 else "ops", agentaccount="", agentname=""))
    with vos.connect() as connection:
        whole = source.payment_chunk(connection, 0, 100)
        assert whole[0] == [str(record_id) for record_id in memos]  # over the gap of more than RANGE_IDS
        assert whole[source.PAYMENT_FIELDS.index("memo")] == list(memos.values())
        assert whole[source.PAYMENT_FIELDS.index("loginname")][2] == "ops\x1f2"
        assert whole[1][0] == "10.25" and whole[3][1] == "20.5"  # the server's text of each double
        flat = source._payment_rows(connection, 0, 12_002)
        assert whole == [flat[index::len(source.PAYMENT_FIELDS)] for index in range(len(source.PAYMENT_FIELDS))]
        assert source.payment_chunk(connection, 0, 2)[0] == ["1", "2"]  # never more than asked
        assert source.payment_chunk(connection, 3, 2)[0] == ["12000", "12001"]
        assert source.payment_chunk(connection, 12_002, 5) == []
    vos.dispose()
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url, chunk_size=2)
    assert dict(_rows(ledger, "SELECT CAST(source_key AS INTEGER), memo FROM payments")) == memos


def test_a_wrong_sign_rule_is_overruled_by_the_balances_and_flagged(tmp_path, vos_url):
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:
        schema.create_tables(connection)
        _payhistory(connection, (1, "C1", 50.0, 50.0, 0), (2, "C1", 20.0, 30.0, 1))
    vos.dispose()
    rules = (Path(mapping.DEFAULT_FILE).read_text()
             .replace("1: {kind: withdrawal, sign: debit", "1: {kind: withdrawal, sign: credit"))
    (tmp_path / "mapping.yaml").write_text(rules)
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url, mapping=mapping.load(tmp_path / "mapping.yaml"))
    assert _rows(ledger, "SELECT amount FROM payments WHERE source_key = '2'") == [(-200_000,)]
    assert ("2", "sign_disagrees") in {(f.source_key, f.code) for f in state.flags(ledger, "vos3000")}


def test_charges_can_come_from_the_daily_report_when_cdrs_were_cleaned_up(tmp_path, vos_url):
    day_ms = to_epoch_ms(datetime(2026, 10, 3))
    vos = sa.create_engine(vos_url)
    with vos.begin() as connection:
        schema.create_tables(connection)
        _payhistory(connection, (1, "C1", 50.0, 50.0, 0))
        connection.execute(schema.e_reportcustomerfee.insert(), [
            {"id": 1, "date": day_ms, "customeraccount": "C1", "customername": "One", "agentaccount": "",
             "count": 12, "fee": 3.4567, "tax": 0.0, "feetime": 600, "suitefee": 0.0}])
        connection.execute(schema.e_consumption.insert(), [
            {"id": 7, "account": "C1", "accountname": "One", "money": 2.5, "remainmoney": 44.0432,
             "time": day_ms + 3_600_000, "type": 0, "comsumptionname": "rent", "agentaccount": "",
             "agentname": "", "memo": ""}])
    vos.dispose()
    report_rule = Path(mapping.DEFAULT_FILE).read_text().replace("charges_from: cdr", "charges_from: report")
    (tmp_path / "mapping.yaml").write_text(report_rule)
    ledger = _ledger(tmp_path)
    _sync(ledger, vos_url, mapping=mapping.load(tmp_path / "mapping.yaml"))
    assert _rows(ledger, "SELECT day, call_fee, agent_fee, other_fee, calls FROM charges") == [
        ("2026-10-03", 34_567, 0, 25_000, 12)]
    provenance = state.marks(ledger, "vos3000")["charges"].provenance
    assert provenance["charges_from"] == "report" and "vosbench-test" not in provenance["source_url"]
    with ledger.connect() as connection:
        shown = dict(synced_streams(connection))  # what the audit's provenance section and sheet list
    assert "charges_from report" in shown["synced vos3000 charges"]
    assert shown["synced vos3000 charges"].startswith("read up to 2026-11-01; rows read 1;")  # days closed by NOW
    assert "vosbench-test" not in " ".join(shown.values())  # the source's password stays masked


def test_values_finer_than_the_ledger_scale_are_reported(tmp_path, vos_url):
    generate.write_dataset(vos_url, generate.DatasetSpec(customers=5, days=2, payments=20, calls_per_day=30,
                                                         inexact_fees=3))
    ledger = _ledger(tmp_path)
    report = _sync(ledger, vos_url)
    assert report.flags["inexact_money"] == 1
    (flag,) = [f for f in state.flags(ledger, "vos3000") if f.code == "inexact_money"]
    assert flag.source_key == "2026-10-01" and flag.detail.startswith("3 value(s)")


def test_errors_name_the_input(tmp_path, mariadb):
    from vosbench.commands import main

    bad_port = mariadb.url("vos3000").replace(str(mariadb.port), "1")
    env_home = {"db": f"sqlite:///{tmp_path / 'l.sqlite'}"}
    assert main.main(["sync", "vos3000-db", "--db", env_home["db"], "--source", bad_port, "--quiet"]) == 2
    assert main.main(["sync", "vos3000-db", "--db", env_home["db"], "--source", "not a url", "--quiet"]) == 2
    with pytest.raises(SystemExit) as refused:  # argparse names the option and the fix
        main.main(["sync", "vos3000-db", "--db", env_home["db"], "--source", mariadb.url("vos3000"), "--chunk-size", "0"])
    assert refused.value.code == 2
    mariadb.sql("CREATE DATABASE IF NOT EXISTS empty_db")
    assert main.main(["sync", "vos3000-db", "--db", env_home["db"], "--source", mariadb.url("empty_db"),
                     "--quiet"]) == 2


def test_a_reader_that_fails_says_why_and_nothing_of_its_chunk_is_written():
    unreachable = sa.make_url("mysql+pymysql://vosbench:secret@127.0.0.1:1/vos3000")
    with pytest.raises(source.SourceError) as raised:
        next(payreader.chunks(unreachable, mapping.load(), after=0, chunk_size=100))
    message = str(raised.value)
    assert "reading e_payhistory failed" in message and "resumes there" in message
    assert "OperationalError" in message and "Can't connect" in message and "secret" not in message


def _dump(engine) -> dict:
    """The ledger's content without what differs between runs (record times, batch ids, hashes)."""
    return {
        "accounts": _rows(engine, "SELECT a.account, a.name, a.kind, p.account, a.credit_limit FROM accounts a "
                                  "LEFT JOIN accounts p ON p.id = a.parent_id ORDER BY a.account"),
        "payments": _rows(engine, "SELECT a.account, p.source_key, p.kind, p.amount, p.occurred_at, p.operator, p.method, "
                                  "p.memo, p.reason, p.balance_after FROM payments p JOIN accounts a ON a.id = p.account_id "
                                  "ORDER BY CAST(source_key AS INTEGER)"),
        "charges": _rows(engine, "SELECT a.account, day, call_fee, agent_fee, other_fee, calls FROM charges c "
                                 "JOIN accounts a ON a.id = c.account_id ORDER BY a.account, day"),
        "balances": _rows(engine, "SELECT a.account, balance FROM balance_snapshots s JOIN accounts a "
                                  "ON a.id = s.account_id ORDER BY a.account"),
        "flags": _rows(engine, "SELECT stream, source_key, code, detail FROM sync_flags ORDER BY stream, source_key, code"),
    }


def test_a_killed_sync_resumes_to_the_same_ledger(tmp_path, vos_url):
    generate.write_dataset(vos_url, generate.DatasetSpec(customers=200, days=4, payments=20_000, calls_per_day=500))
    command = [sys.executable, "-m", "vosbench.commands.main", "sync", "vos3000-db", "--source", vos_url, "--chunk-size", "200",
               "--quiet"]
    whole, killed = (f"sqlite:///{tmp_path / name}.sqlite" for name in ("whole", "killed"))
    subprocess.run([*command, "--db", whole], check=True, capture_output=True)
    process = subprocess.Popen([*command, "--db", killed], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = database.make_engine(killed)
    deadline = time.monotonic() + 120
    progress = 0
    while progress < 2_000 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            found = _rows(engine, "SELECT mark FROM sync_state WHERE stream = 'e_payhistory'")
        except sa.exc.OperationalError:  # tables not created yet
            continue
        progress = int(found[0][0]) - 1000 if found else 0
    assert process.poll() is None, "the sync finished before it could be interrupted; give it more rows"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = _rows(engine, "SELECT COUNT(*) FROM payments")[0][0]
    assert 0 < partial < 20_000
    # a first sync builds the payments' indexes at its end: killed before, they are missing …
    assert setup.missing_indexes(engine) >= {"ix_payments_time", "ix_payments_kind_amount"}
    subprocess.run([*command, "--db", killed], check=True, capture_output=True)
    assert not setup.missing_indexes(engine)  # … and the next run has them back
    assert _dump(database.make_engine(killed)) == _dump(database.make_engine(whole))
    from vosbench.ledger import verification

    assert verification.verify(setup.open_ledger(killed)).ok


_NULLABLE_DDL = (
    # VOS3000's own DDL (a mysqldump --no-data of a real server): every column but the keys DEFAULT NULL,
    # timezoneid text; only the columns the sync reads, and the NOT NULL ones, are kept here
    """CREATE TABLE e_customer (id int NOT NULL, account varchar(255) DEFAULT NULL, name varchar(255) DEFAULT NULL,
       type int DEFAULT NULL, money double DEFAULT NULL, limitmoney double DEFAULT NULL, memo varchar(255) DEFAULT NULL,
       timezoneid varchar(255) DEFAULT NULL, customer_id int DEFAULT NULL, feerategroup_id int NOT NULL,
       PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_bin""",
    """CREATE TABLE e_payhistory (id int NOT NULL, customeraccount varchar(255) DEFAULT NULL,
       paymoney double DEFAULT NULL, customername varchar(255) DEFAULT NULL, time bigint DEFAULT NULL,
       customermoney double DEFAULT NULL, memo varchar(255) DEFAULT NULL, paytype int DEFAULT NULL,
       type int DEFAULT NULL, loginname varchar(255) DEFAULT NULL, agentaccount varchar(255) DEFAULT NULL,
       agentname varchar(255) DEFAULT NULL, PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_bin""",
    """CREATE TABLE e_consumption (id int NOT NULL, account varchar(255) DEFAULT NULL,
       accountname varchar(255) DEFAULT NULL, money double DEFAULT NULL, remainmoney double DEFAULT NULL,
       time bigint DEFAULT NULL, type int DEFAULT NULL, comsumptionname varchar(255) DEFAULT NULL,
       agentaccount varchar(255) DEFAULT NULL, agentname varchar(255) DEFAULT NULL, memo varchar(255) DEFAULT NULL,
       PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_bin""",
)


def test_columns_vos3000_leaves_null_are_read_or_refused_naming_the_record(tmp_path, vos_url, capsys):
    """VOS3000's columns are all DEFAULT NULL. A NULL name, memo, operator, agent, overdraft limit or balance
    is read (the last two flagged), an e_customer row without an account left out, flagged; a NULL amount,
    balance after, time, type, payment mode or account of a payment refuses the sync in one line naming
    the record and the column. These ended in a TypeError traceback or 'invalid literal for int()'."""
    from vosbench.commands import main

    vos = sa.create_engine(vos_url)
    moment = to_epoch_ms(datetime(2026, 10, 1, 10))
    with vos.begin() as connection:
        for ddl in _NULLABLE_DDL:
            connection.exec_driver_sql(ddl)
        connection.exec_driver_sql("INSERT INTO e_customer (id, account, money, feerategroup_id) VALUES "
                                   "(1, 'C1', 30, 1), (2, 'C2', NULL, 1), (3, NULL, 5, 1)")
        connection.exec_driver_sql(f"INSERT INTO e_payhistory (id, customeraccount, paymoney, time, customermoney, "
                                   f"paytype, type) VALUES (1, 'C1', 10, {moment}, 10, 0, 0), "
                                   f"(2, 'C1', 20, {moment + 1000}, 30, 0, 0)")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    def sync(*more):
        code = main.main(["sync", "vos3000-db", "--db", ledger, "--source", vos_url, "--quiet", *more])
        return (code, *capsys.readouterr())

    code, out, err = sync("--flags")
    assert code == 0, err
    assert "e_payhistory: 2 rows read, 2 payments added" in out
    assert "e_customer C1: limit_missing: e_customer.id=1 has no limitmoney (NULL); read as no overdraft (0)" in out
    assert "e_customer e_customer.id=3: account_missing" in out
    assert "e_customer.money C2: balance_missing" in out
    engine = sa.create_engine(ledger)
    assert dict(_rows(engine, "SELECT account, credit_limit FROM accounts")) == {"C1": 0, "C2": 0}
    assert _rows(engine, "SELECT memo, operator FROM payments WHERE source_key = '1'") == [("", "vos3000")]  # no loginname
    for column in ("paymoney", "customermoney", "time", "type", "paytype", "customeraccount"):
        values = {"paymoney": 5, "customermoney": 35, "time": moment + 2000, "type": 0, "paytype": 0,
                  "customeraccount": "'C1'"}
        with vos.begin() as connection:
            connection.exec_driver_sql("DELETE FROM e_payhistory WHERE id = 3")
            values[column] = "NULL"
            connection.exec_driver_sql(f"INSERT INTO e_payhistory (id, {', '.join(values)}) "
                                       f"VALUES (3, {', '.join(map(str, values.values()))})")
        code, out, err = sync()
        assert code == 2 and "Traceback" not in err
        assert f"e_payhistory.id=3: {column} is NULL (empty) in VOS3000, and the sync never guesses it" in err
    assert _rows(engine, "SELECT COUNT(*) FROM payments") == [(2,)]  # nothing of the refused record
    vos.dispose()
    engine.dispose()


def test_a_call_or_deduction_of_no_account_is_left_out_when_it_moves_no_money_else_refused(tmp_path, vos_url):
    """VOS3000 writes calls it could put on no account (an unknown caller refused before billing) to e_cdr with
    an empty customeraccount and no fee: they charge nobody and are left out, flagged. One of no account that
    does carry money refuses the day in one line naming the record. Before, the empty account reached the write
    door, which refused every later day's charges with "account '' is unknown; add it to accounts.csv"."""
    vos = sa.create_engine(vos_url)
    moment = to_epoch_ms(datetime(2026, 10, 1, 10))
    call = {name: 0 for name in schema.CDR_COLUMN_NAMES} | {
        "customername": "", "agentaccount": "", "agentname": "", "callere164": "1", "calleee164": "2",
        "starttime": moment, "stoptime": moment, "agentcdr_id": None}
    with vos.begin() as connection:
        schema.create_tables(connection)
        connection.execute(schema.e_customer.insert().values(
            id=1, account="C1", name="One", type=0, money=9.5, limitmoney=0, todayconsumption=0, locktype=0, status=0,
            starttime=0, validtime=0, lastupdatetime=0, memo="", timezoneid=0))
        connection.execute(schema.cdr_table().insert(), [call | {"flowno": 1, "customeraccount": "C1", "fee": 0.5},
                                                         call | {"flowno": 2, "customeraccount": "", "fee": 0}])
        connection.execute(schema.e_consumption.insert().values(
            id=1, account="", accountname="", money=0, remainmoney=0, time=moment, type=0, comsumptionname="",
            agentaccount="", agentname="", memo=""))
    ledger = _ledger(tmp_path)
    report = _sync(ledger, vos_url)
    assert "charge_without_account" in report.flags
    assert _rows(ledger, "SELECT a.account, c.call_fee, c.other_fee, c.calls FROM charges c JOIN accounts a "
                         "ON a.id = c.account_id") == [("C1", 5000, 0, 1)]
    assert [row[0] for row in _rows(ledger, "SELECT account FROM accounts")] == ["C1"]
    with vos.begin() as connection:  # the next day: a call of no account that costs money
        connection.execute(schema.cdr_table().insert(), [call | {"flowno": 3, "customeraccount": "", "fee": 0.25,
                                                                 "stoptime": moment + 86_400_000}])
    second = _ledger(tmp_path, "second")
    with pytest.raises(ValueError, match=r"^e_cdr\.flowno=3: charges 0\.25 but its customeraccount is empty \(NULL\), "
                                         "and the sync never guesses whose money it is"):
        _sync(second, vos_url)
    assert _rows(second, "SELECT COUNT(*) FROM charges") == [(1,)]  # the day before it, and nothing of its own
    vos.dispose()
