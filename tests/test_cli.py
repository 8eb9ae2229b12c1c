"""The vosbench command: options, ledger selection, exit codes and messages."""

import pytest

from vosbench import cli, config
from ledger_text import ACCOUNTS, write_ledger_files


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A ledger URL chosen through VOSBENCH_DB, as a user would set it."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv(config.ENV_DB, url)
    return url


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_option_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.delenv(config.ENV_DB, raising=False)
    assert config.resolve_db_url() == f"sqlite:///{tmp_path / 'home' / 'ledger.sqlite'}"
    monkeypatch.setenv(config.ENV_DB, "sqlite:///env.sqlite")
    assert config.resolve_db_url() == "sqlite:///env.sqlite"
    assert config.resolve_db_url("sqlite:///cli.sqlite") == "sqlite:///cli.sqlite"


def test_import_record_reverse_verify(tmp_path, db, capsys):
    folder = write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)
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
    run(capsys, "import", str(write_ledger_files(tmp_path / "in", accounts=ACCOUNTS)))
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and out == ""


def test_missing_ledger_says_how_to_make_one(tmp_path, capsys):
    code, _, err = run(capsys, "verify", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert code == 2 and "vosbench demo" in err and "vosbench import" in err


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
