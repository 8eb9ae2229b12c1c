"""The vosbench command: options, ledger selection, exit codes and messages."""

from decimal import Decimal

import pytest
from ledger_text import ACCOUNTS, TEAM, write_ledger_files

from vosbench.commands import ledger as ledger_commands
from vosbench.commands import main
from vosbench.core import config, money


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A ledger URL chosen through VOSBENCH_DB, as a user would set it."""
    url = f"sqlite:///{tmp_path / 'main.sqlite'}"
    monkeypatch.setenv(config.ENV_DB, url)
    return url


def run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_option_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.delenv(config.ENV_DB, raising=False)
    assert config.resolve_db_url() == f"sqlite:///{tmp_path / 'home' / 'ledger.sqlite'}"
    monkeypatch.setenv(config.ENV_DB, "sqlite:///env.sqlite")
    assert config.resolve_db_url() == "sqlite:///env.sqlite"
    assert config.resolve_db_url("sqlite:///main.sqlite") == "sqlite:///main.sqlite"


def test_import_record_reverse_verify(tmp_path, db, capsys):
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)
    code, out, _ = run(capsys, "import", str(folder))
    assert code == 0 and "accounts.csv: 4 added, 0 already present" in out
    code, out, _ = run(capsys, "record", "--account", "C1", "--kind", "deposit", "--amount", "12.34",
                       "--operator", "alice", "--method", "cash", "--at", "2026-10-02T08:00:00Z")
    assert (code, out.strip()) == (0, "recorded payment 1")
    code, out, _ = run(capsys, "reverse", "1", "--reason", "entered twice", "--operator", "bob")
    assert (code, out.strip()) == (0, "recorded reversal 2 of payment 1")
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "payments: 2 rows" in out and "ledger verified" in out
    code, out, _ = run(capsys, "info")
    assert code == 0 and db in out and "time zone: UTC" in out


@pytest.mark.parametrize("argv, message", [
    (["record", "--account", "C1", "--kind", "deposit", "--amount", "-1", "--operator", "a"],
     "deposit amount must be positive"),
    (["record", "--account", "C1", "--kind", "adjustment", "--amount", "1", "--operator", "a"],
     "adjustment needs a reason"),
    (["record", "--account", "ZZ", "--kind", "deposit", "--amount", "1", "--operator", "a"],
     "account 'ZZ' is unknown"),
    (["reverse", "77", "--reason", "x", "--operator", "a"], "payment 77 does not exist"),
])
def test_bad_input_exits_2_with_the_fix(tmp_path, db, capsys, argv, message):
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and out == ""


def test_missing_ledger_says_how_to_make_one_and_makes_nothing(tmp_path, capsys):
    for command in ("verify", "info", "reconcile --month 2026-10", "query"):
        code, _, err = run(capsys, *command.split(), "--db", f"sqlite:///{tmp_path / 'new' / 'none.sqlite'}")
        assert code == 2 and "vosbench demo" in err and "vosbench import" in err
        assert not (tmp_path / "new").exists()  # neither an empty ledger file nor its folder


def test_rejected_import_lists_rows_and_exits_2(tmp_path, db, capsys):
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        k1,C1,deposit,1.00,2026-10-01T00:00:00Z,a,admin,cash
        k2,C1,deposit,abc,2026-10-01T00:00:00Z,a,admin,cash
    """)
    code, out, err = run(capsys, "import", str(folder))
    assert code == 2
    assert "accounts.csv: 4 added" in out
    assert "payments.csv:3: amount: 'abc' is not a number" in err


@pytest.mark.slow
def test_demo_then_audit_from_the_command_line(tmp_path, capsys):
    """A new user's path: build a demo, audit a month, open the workbook."""
    import openpyxl

    from vosbench.analysis import reconcile
    from vosbench.ledger import setup

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    code, out, _ = run(capsys, "demo", "--db", url, "--customers", "60", "--months", "3", "--quiet")
    assert code == 0 and "8 planted anomalies" in out
    code, out, err = run(capsys, "audit", "--month", "2026-10", "--db", url, "--out", str(tmp_path / "out"),
                         "-p", "top_n=3", "--quiet")
    assert code == 0, err
    folder = tmp_path / "out" / "2026-10"
    assert f"audit report for 2026-10 written to {folder}" in out
    book = openpyxl.load_workbook(folder / "monthly-audit-2026-10.xlsx")
    for sheet in ("Summary", "Reconciliation", "Differences", "Provenance"):
        assert sheet in book.sheetnames
    expected = reconcile.reconcile(setup.open_ledger(url), "2026-10")
    header = [cell.value for cell in book["Reconciliation"][1]]
    accounts = {row[0]: dict(zip(header, row)) for row in book["Reconciliation"].iter_rows(min_row=2, values_only=True)
                if row[0]}
    for row in expected.accounts.itertuples():
        # xlsx numbers are read back as floats; their shortest text is the 4-place decimal written
        assert Decimal(str(accounts[row.account]["expected_closing"])) == money.to_decimal(row.expected_closing)
    differences = [row[0] for row in book["Differences"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert sorted(differences) == sorted(expected.differences()["account"])
    code, _, err = run(capsys, "audit", "--month", "2026-10", "--db", url, "-p", "colour=red")
    assert code == 2 and "colour" in err
    # a payment of the month edited behind the guards: the report is written, and the command fails loudly
    from tamper_sql import behind_guards

    with setup.open_ledger(url).connect() as connection:
        edited = connection.exec_driver_sql("SELECT max(id) FROM payments WHERE occurred_at >= '2026-10-05'").scalar()
    behind_guards(str(tmp_path / "demo.sqlite"), f"UPDATE payments SET amount = amount + 1 WHERE id = {edited}",
                  tables=("payments",))
    code, out, err = run(capsys, "audit", "--month", "2026-10", "--db", url, "--out", str(tmp_path / "again"),
                         "-p", "write_png=false", "--quiet")
    assert code == 1 and "written to" in out, err
    assert "the ledger FAILED verification (2 checks)" in err and f"payments row {edited} was changed" in err
    assert "month totals" in err  # the amount moved: the month's kept totals no longer agree either


def test_reconcile_prints_the_month_in_each_format(tmp_path, db, capsys):
    import csv
    import io
    import json

    # C1 in 2026-10: opening 0 + deposit 100.00 − call fees 2.50 = 97.50 expected; reported 97.50.
    # C2: deposit 20.00, reported 19.00 at month end → difference −1.00 (snapshot disagrees).
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,balance_after
        k1,C1,deposit,100.00,2026-10-02T10:00:00Z,a,admin,cash,100.00
        k2,C2,deposit,20.00,2026-10-02T10:00:00Z,a,admin,cash,20.00
    """, charges="""
        account,day,call_fee,agent_fee,other_fee,calls
        C1,2026-10-03,2.50,0,0,4
    """, balances="""
        account,as_of,balance
        C1,2026-11-01T00:00:00Z,97.50
        C2,2026-11-01T00:00:00Z,19.00
    """)
    run(capsys, "import", str(folder))
    code, out, _ = run(capsys, "reconcile", "--month", "2026-10", "--format", "csv")
    rows = {row["account"]: row for row in csv.DictReader(io.StringIO(out))}
    assert code == 0
    assert (rows["C1"]["expected_closing"], rows["C1"]["difference"], rows["C1"]["classification"]) == (
        "97.5000", "0.0000", "agrees")
    assert (rows["C2"]["difference"], rows["C2"]["classification"]) == ("-1.0000", "snapshot disagrees")
    assert rows["C2"]["snapshot_as_of"] == "2026-11-01 00:00:00 +00:00"  # labelled with the month's zone
    code, out, _ = run(capsys, "reconcile", "--month", "2026-10", "--format", "json", "--differences-only")
    document = json.loads(out)
    assert [row["account"] for row in document["rows"]] == ["C2"]
    code, out, _ = run(capsys, "reconcile", "--month", "2026-10", "--format", "json", "--timezone", "America/New_York")
    shown = {row["account"]: row["snapshot_as_of"] for row in json.loads(out)["rows"]}
    assert shown == {"C1": "2026-10-31 20:00:00 -04:00", "C2": "2026-10-31 20:00:00 -04:00"}  # the instant, in New York
    assert document["totals"]["USD"]["difference"] == "-1.0000"
    code, out, _ = run(capsys, "reconcile", "--month", "2026-10", "--account", "C1")
    assert code == 0 and "C1" in out and "C2" not in out and "TOTAL" in out.splitlines()[-1]
    code, _, err = run(capsys, "reconcile", "--month", "2026-13")
    assert code == 2 and "2026-13" in err


def test_a_file_that_is_no_database_gets_one_line_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "ledger.sqlite"
    bad.write_text("not a database at all\n" * 100)
    assert main.main(["info", "--db", f"sqlite:///{bad}"]) == 2
    err = capsys.readouterr().err
    assert "file is not a database" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["reconcile", "--month", "2026-10", "--subtree", ""],
    ["reconcile", "--month", "2026-10", "--account", "  "],
    ["query", "--account", ""],
    ["statement", "--subtree", " ", "--from", "2026-10-01", "--to", "2026-10-31"],
    ["summary", "--month", "2026-10", "--subtree", ""],
])
def test_a_blank_account_or_subtree_is_refused_not_read_as_every_account(db, capsys, argv):
    with pytest.raises(SystemExit) as refused:  # argparse's refusal: usage and the message, exit status 2
        main.main(argv)
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and out == ""
    assert "empty; give an account number" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["record", "--account", "C1", "--kind", "deposit", "--amount", "5", "--operator", "alice",
      "--at", "0001-01-01T00:00:00+04:00"], "argument --at: time: 0001-01-01 is out of range"),
    (["record", "--account", "C1", "--kind", "deposit", "--amount", "5", "--operator", "alice",
      "--at", "9999-12-31T23:59:59-04:00"], "argument --at: time: 9999-12-31 is out of range"),
    (["query", "--from", "0001-01-01", "--to", "0001-01-02"], "argument --from: day: 0001-01-01 is out of range"),
    (["query", "--from", "9998-12-30", "--to", "9999-12-31"], "argument --to: day: 9999-12-31 is out of range"),
    (["find-payment", "--amount", "5", "--date", "0001-01-01"], "argument --date: day: 0001-01-01 is out of range"),
    (["find-payment", "--amount", "5", "--date", "9999-12-31"], "argument --date: day: 9999-12-31 is out of range"),
    (["reverse", "99999999999999999999", "--reason", "x", "--operator", "bob"],
     "argument payment_id: '99999999999999999999' is not an id"),
    (["approvals", "approve", "99999999999999999999", "--operator", "bob"],
     "argument request_id: '99999999999999999999' is not an id"),
    (["approvals", "reject", "0", "--operator", "bob", "--reason", "x"], "argument request_id: '0' is not an id"),
    (["decide", "confirm", "--lines", "1,99999999999999999999", "--payments", "1"],
     "argument --lines: '99999999999999999999' is not an id"),
    (["proof", "--anchor", "r.json", "--payment", "-3"], "argument --payment: '-3' is not an id"),
    (["reverse", "\u0661", "--reason", "x", "--operator", "bob"], "argument payment_id: '\u0661' is not an id"),
    (["approvals", "approve", "\uff11", "--operator", "bob"], "argument request_id: '\uff11' is not an id"),
])
def test_extreme_dates_and_ids_are_refused_naming_the_option_and_the_range(db, capsys, argv, message):
    with pytest.raises(SystemExit) as refused:
        main.main(argv)
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and out == "" and message in err and "Traceback" not in err
    assert "1900-01-01 to 9998-12-31" in err or "from 1 to 9223372036854775807" in err


@pytest.mark.parametrize("at", ["2026-10-05T10:00:00+14:30", "2026-10-05T10:00:00-23:59", "2026-10-05T10:00:00-12:01"])
def test_a_time_whose_offset_no_zone_keeps_is_refused(tmp_path, db, capsys, at):
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    code, out, err = run(capsys, "record", "--account", "C1", "--kind", "deposit", "--amount", "5", "--operator",
                         "alice", "--at", at)
    assert (code, out) == (2, "") and f"{at} has an offset no time zone uses" in err and "Traceback" not in err
    edge = run(capsys, "record", "--account", "C1", "--kind", "deposit", "--amount", "5", "--operator", "alice",
               "--at", "2026-10-05T10:00:00+14:00")  # Kiribati's Line Islands keep +14:00
    assert edge[0] == 0


def test_a_find_payment_window_beyond_the_calendar_is_refused(tmp_path, db, capsys):
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    code, out, err = run(capsys, "find-payment", "--amount", "5", "--date", "2026-10-01", "--days", "99999999")
    assert (code, out) == (2, "")
    assert "--days 99999999 around --date 2026-10-01: the window must stay within 1900-01-01 to 9998-12-31" in err
    assert run(capsys, "find-payment", "--amount", "5", "--date", "9998-12-24", "--days", "7")[0] == 0


def test_an_overflow_anywhere_ends_in_one_line_not_a_traceback(db, capsys, monkeypatch):
    def overflowing(_args):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(ledger_commands, "cmd_info", overflowing)  # registered anew by each main()
    code, out, err = run(capsys, "info")
    assert (code, out) == (2, "")
    assert err.strip() == ("vosbench info: a value is out of range (date value out of range); give days from "
                           "1900-01-01 to 9998-12-31 and ids from 1 to 9223372036854775807")


@pytest.mark.parametrize("zone", ["localtime", "Factory"])
def test_a_new_ledger_refuses_a_time_zone_that_is_no_place(tmp_path, db, capsys, zone):
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)
    code, out, err = run(capsys, "import", str(folder), "--timezone", zone)
    assert (code, out) == (2, "")
    assert f"time zone {zone!r} is not the zone of a place; give an IANA name such as 'UTC'" in err
    assert not (tmp_path / "main.sqlite").exists() or run(capsys, "info")[0] == 2


def test_an_import_column_named_twice_or_a_folder_named_like_a_file_is_refused(tmp_path, db, capsys):
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    twice = tmp_path / "twice" / "payments.csv"
    twice.parent.mkdir()
    twice.write_text("source_key,account,kind,amount,occurred_at,operator,channel,method,amount\n"
                     "k1,C1,deposit,100.00,2026-10-01T00:00:00Z,a,admin,cash,1.00\n", encoding="utf-8")
    code, out, err = run(capsys, "import", str(twice))
    assert code == 2 and "column(s) amount appear more than once" in err  # never the last one's 1.00
    (tmp_path / "folder" / "payments.csv").mkdir(parents=True)
    code, out, err = run(capsys, "import", str(tmp_path / "folder"))
    assert code == 2 and "payments.csv: is a folder or a device, not a CSV file" in err and "Traceback" not in err
    code, out, _ = run(capsys, "query", "--format", "json")
    assert '"total_count": 0' in out  # nothing was imported from either


def test_an_account_number_a_reader_would_take_for_another_is_refused(tmp_path, db, capsys):
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    look_alikes = tmp_path / "more" / "accounts.csv"
    look_alikes.parent.mkdir()
    look_alikes.write_text("account,name,kind,parent\n"
                           "c1,Lower case,customer,\n"
                           "\u04211,Cyrillic Es,customer,\n"  # С1: a Cyrillic letter drawn like Latin C
                           "C1\u200b,Zero width,customer,\n"
                           "=1+1,Formula,customer,\n"
                           "C 9,Space,customer,\n", encoding="utf-8")
    code, _, err = run(capsys, "import", str(look_alikes))
    assert code == 2 and "nothing from accounts.csv was written" in err
    assert err.count("reads as the existing account 'C1'") == 2
    assert "U+200B ZERO WIDTH SPACE" in err and "runs as a formula" in err and "U+0020 SPACE" in err
    code, out, _ = run(capsys, "import", str(write_ledger_files(tmp_path / "ok", accounts="""
        account,name,kind,parent
        C77,A new customer,customer,
    """)))
    assert code == 0 and "1 added" in out  # a number like no other is opened as before


def test_an_operator_whose_login_could_never_sign_in_is_refused_at_import(tmp_path, db, capsys):
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators="""
        login,name,role,timezone,shift_start,shift_end,working_days
        =1+1,Formula,supervisor,UTC,08:00,17:00,12345
        Daniel.Meyer,Capitals,supervisor,UTC,08:00,17:00,12345
        installer,Would pass for the thresholds' seed,supervisor,UTC,08:00,17:00,12345
    """)
    code, _, err = run(capsys, "import", str(folder))
    assert code == 2 and err.count("cannot be a database login") == 2  # the rule `operators add` applies
    assert "login 'installer' is reserved for the approval thresholds' first setting" in err


def _every_command(parser, path=()):
    """(words, parser) of the command line and of every command and subcommand under it."""
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_command(sub, (*path, name))


def test_every_command_and_subcommand_takes_db_before_and_after_it():
    commands = list(_every_command(main.build_parser()))
    assert len(commands) > 40  # the walk reached the subcommands (views list, sync vos3000-db, …)
    lacking = [" ".join(path) or "vosbench" for path, parser in commands if "--db" not in parser._option_string_actions]
    assert lacking == []


@pytest.mark.parametrize("argv", [["--db", "{url}", "info"], ["info", "--db", "{url}"],
                                  ["--db", "{url}", "views", "list"], ["views", "--db", "{url}", "list"],
                                  ["views", "list", "--db", "{url}"], ["--db", "{url}", "info", "--db", "{url}"]])
def test_db_works_before_or_after_the_command(tmp_path, capsys, monkeypatch, argv):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)
    assert main.main(["import", str(tmp_path / "in"), "--db", url]) == 0
    monkeypatch.setenv(config.ENV_DB, f"sqlite:///{tmp_path / 'other.sqlite'}")  # never the one used
    capsys.readouterr()
    code, out, err = run(capsys, *(word.format(url=url) for word in argv))
    assert code == 0 and err == ""  # VOSBENCH_DB names no ledger: the --db given was used
    if "info" in argv:
        assert f"ledger: {url}\n" in out


def test_two_different_db_urls_are_refused_naming_both(tmp_path, capsys):
    code, out, err = run(capsys, "--db", "sqlite:///a.sqlite", "info", "--db", "postgresql://ann:s3cret@db/ledger")
    assert code == 2 and out == ""
    assert err == ("vosbench info: --db is given twice, sqlite:///a.sqlite before the command and "
                   "postgresql://ann:***@db/ledger after it; give one ledger\n")


@pytest.mark.parametrize("option", ["--min-amount", "--max-amount"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_amount_bound_is_refused_not_read_as_no_bound(db, capsys, option, blank):
    with pytest.raises(SystemExit) as refused:
        main.main(["query", option, blank])
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and out == ""
    assert f"argument {option}: empty; give a decimal amount such as 100.00 (leave the option out for no bound)" in err


@pytest.mark.parametrize("argv, message", [
    (["-p", "db_url=sqlite:///elsewhere.sqlite"], "-p db_url: give it as the command's option --db URL instead; "
                                                  "-p takes: month (str), timezone (str), large_payment_threshold (money)"),
    (["-p", "ledger=x"], "ledger (override): unknown parameter of monthly_audit.ipynb; the parameters are: month (str)"),
    (["-p", "output_dir=/tmp/x"], "output_dir (override): set by the runner; choose the report folder with out_dir "
                                  "(vosbench audit --out DIR) instead; the parameters are: month (str)"),
    (["--view", "large-deposits", "-p", "view=manual-adjustments"],
     "view: --view large-deposits and -p view=manual-adjustments differ; give the view once"),
    (["-f", "{file}"], "db_url: --db sqlite:///{tmp}/main.sqlite and db_url sqlite:///elsewhere.sqlite in "
                       "profile.yaml differ; give the ledger once"),
])
def test_an_audit_parameter_that_would_be_ignored_is_refused_naming_the_option(tmp_path, capsys, argv, message):
    profile = tmp_path / "profile.yaml"
    profile.write_text('db_url: "sqlite:///elsewhere.sqlite"\n', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'main.sqlite'}"
    words = [word.format(file=profile) for word in argv]
    code, out, err = run(capsys, "audit", "--month", "2026-10", "--db", url, "--out", str(tmp_path / "r"), *words)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("vosbench audit: " + message.format(tmp=tmp_path)), err
    if "-p" in argv:  # what -p lists is what -p takes
        assert "db_url (str)" not in err
    assert not (tmp_path / "r").exists()


def test_an_error_quoting_a_hostile_file_name_shows_its_hidden_characters(tmp_path, db, capsys):
    code, out, err = run(capsys, "import", str(tmp_path / "payments\u202evsc.exe"))
    assert code == 2 and out == ""
    assert "payments\\u202evsc.exe" in err and "\u202e" not in err


def test_an_empty_db_or_an_out_folder_that_is_a_file_is_refused(tmp_path, capsys):
    """An unset variable in a script must not send a command to another ledger, nor a report into a file."""
    for argv in (["query", "--db", ""], ["--db", " ", "info"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "--db is empty; give the ledger's URL" in err
    existing = tmp_path / "notes.txt"
    existing.write_text("kept")
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal: usage and one line, exit 2
        main.main(["audit", "--month", "2026-10", "--out", str(existing)])
    assert refused.value.code == 2 and existing.read_text() == "kept"
    assert f"{existing} is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["info"], ["verify"], ["query"]])
def test_a_folder_given_as_the_ledger_names_the_file_to_give(tmp_path, capsys, command):
    code, out, err = run(capsys, *command, "--db", f"sqlite:///{tmp_path}")
    assert (code, out) == (2, "") and "Traceback" not in err
    assert f"{tmp_path} is a folder; give the ledger file in it, e.g. sqlite:///{tmp_path / 'ledger.sqlite'}" in err


def test_views_list_of_a_folder_that_is_not_one_says_so_not_no_views(tmp_path, db, capsys):
    (tmp_path / "notes.txt").write_text("kept")
    code, out, err = run(capsys, "views", "list", "--folder", str(tmp_path / "notes.txt"), "--db", db)
    assert (code, out) == (2, "") and f"--folder {tmp_path / 'notes.txt'} is a file; give the folder holding the" in err
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)))
    code, out, err = run(capsys, "views", "list", "--folder", str(tmp_path / "nowhere"), "--db", db)
    assert code == 0 and f"warning: views folder {tmp_path / 'nowhere'} does not exist: no view files listed" in err


@pytest.mark.parametrize("command", [["info"], ["demo", "--customers", "20", "--months", "2", "--quiet"], ["verify"]])
def test_a_file_path_given_as_the_ledger_url_names_the_form_of_one(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setenv(config.ENV_DB, str(tmp_path / "x.db"))
    code, out, err = run(capsys, *command)
    assert (code, out) == (2, "") and "Traceback" not in err
    assert f"ledger URL '{tmp_path / 'x.db'}' is not a database URL" in err and "sqlite:///path/ledger.sqlite" in err
    assert not (tmp_path / "x.db").exists()


def test_an_import_behind_another_writer_for_too_long_says_the_ledger_is_busy_not_to_check_the_url(tmp_path, db, capsys,
                                                                                                  monkeypatch):
    """SQLite's wait for another writer's lock runs out (30 s; half a second here): the line says the ledger is busy and
    to run again, and nothing of the file was written. It said to check the --db URL, which was right."""
    import sqlite3

    from vosbench.ledger import database

    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)
    assert run(capsys, "import", str(folder))[0] == 0
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 500)
    payments = write_ledger_files(tmp_path / "later", payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        k1,C1,deposit,1.00,2026-10-01T00:00:00Z,a,admin,cash
    """)
    other_writer = sqlite3.connect(tmp_path / "main.sqlite", isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        code, _out, err = run(capsys, "import", str(payments))
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    assert (code, err.splitlines()) == (2, [
        "vosbench import: the ledger is busy: another command (an import, a close, an upgrade) has held it for longer than this one "
        "waits to write; what this one had not finished was not written: run it again when that one has finished"])
    assert run(capsys, "import", str(payments))[0] == 0  # the same file, once the other writer is done


def test_a_huge_argument_is_named_in_a_line_of_readable_length(tmp_path, db, capsys):
    """A 100 kB account number was echoed whole into the error: a 100 kB line that buries its own fix."""
    assert run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)))[0] == 0
    code, _out, err = run(capsys, "query", "--account", "X" * 100_000)
    assert code == 2 and len(err.splitlines()) == 1 and len(err) < 700
    assert err.startswith("vosbench query: ") and "characters left out" in err


def test_an_argument_that_is_not_text_is_named_as_such(tmp_path, db, capsys):
    """Bytes the shell passed that are not UTF-8 (Python holds them as surrogates): the codec's own words named no input."""
    assert run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)))[0] == 0
    code, _out, err = run(capsys, "query", "--text", "r\udcff\udcfe")
    assert code == 2 and err.splitlines() == [
        "vosbench query: an argument or a file name holds bytes that are not text in this system's encoding (utf-8); "
        "give it as text"]


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody:pw@127.0.0.1:1/ledger",
                                 "mysql+pymysql://nobody:pw@127.0.0.1:1/ledger"])
def test_a_server_that_cannot_be_reached_is_said_in_one_line(capsys, url):
    code, _out, err = run(capsys, "info", "--db", url)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("vosbench info: the ledger's database cannot be reached: ") and \
        err.rstrip().endswith("check the --db URL and that the server runs")


def test_a_database_of_something_else_is_left_as_it_was_by_a_command_that_refuses_it(tmp_path, db, capsys):
    """`--db` pointed at another application's SQLite file: the command refuses it, and the file is unchanged (not
    turned to WAL, no -wal beside it); `copy` refuses a destination holding other tables before making any there."""
    import hashlib
    import sqlite3

    foreign, empty = tmp_path / "foreign.sqlite", tmp_path / "empty.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE customers (name TEXT)")
        connection.execute("INSERT INTO customers VALUES ('kept')")
    connection.close()
    empty.write_bytes(b"")
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    for path in (foreign, empty):
        code, _, err = run(capsys, "--db", f"sqlite:///{path}", "info")
        assert code == 2 and "no vosbench ledger at" in err
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS, operators=TEAM)
    assert run(capsys, "import", str(folder))[0] == 0
    code, _, err = run(capsys, "copy", "--from", db, "--to", f"sqlite:///{foreign}")
    assert code == 2 and "holds other tables (customers); copy into a new, empty database" in err
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before and empty.stat().st_size == 0
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(("foreign", "empty"))) == \
        ["empty.sqlite", "foreign.sqlite"]
    code, out, _ = run(capsys, "copy", "--from", db, "--to", f"sqlite:///{empty}")
    assert code == 0  # an empty file is an empty database: the copy goes there
    with sqlite3.connect(empty) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
