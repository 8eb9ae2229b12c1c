"""Commands load only what they use: the heavy libraries stay out of the commands that never need them.

A fresh interpreter runs the command and reports the modules it loaded (a timed test would
measure the machine; the modules are what a command's start-up costs). The terminal commands
(info, query, reconcile, verify) never load pandas, plotly or papermill; ``bench/startup.py``
times them."""

import argparse
import importlib
import json
import subprocess
import sys

import pytest
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench.commands import main

HEAVY = ("pandas", "numpy", "plotly", "papermill", "openpyxl", "nbformat", "ipywidgets", "jinja2", "cryptography")

PROBE = """
import contextlib, io, json, sys
from vosbench.commands.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:  # --help
        pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy}
                        or name.startswith(("sqlalchemy.dialects", "sqlalchemy.orm", "sqlalchemy.ext.asyncio",
                                            "vosbench.commands.")))))
"""


def modules(*argv: str) -> list[str]:
    """The heavy libraries' modules, SQLAlchemy's dialects, ORM and asyncio extension, and vosbench's command modules
    a fresh ``vosbench *argv`` loaded."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *argv],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def loaded(*argv: str) -> set[str]:
    """The heavy libraries (top-level packages of :data:`HEAVY`) a fresh ``vosbench *argv`` loaded."""
    return {name.split(".")[0] for name in modules(*argv) if not name.startswith(("sqlalchemy", "vosbench"))}


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startup")
    # C1's second deposit did not move its reported balance: reconcile explains the difference from the balance chain
    ledger_from_text(folder, accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,balance_after
        p1,C1,deposit,100.00,2026-10-01T10:00:00Z,alice,admin,cash,100.00
        p2,C1,deposit,40.00,2026-10-02T10:00:00Z,alice,admin,cash,100.00
    """, balances="account,as_of,balance\nC1,2026-11-01T00:00:00Z,100.00")
    return f"sqlite:///{folder / 'ledger.sqlite'}"


@pytest.mark.parametrize("argv", [("--help",), ("info",), ("query", "--help"), ("reconcile", "--help"),
                                  ("audit", "--help"), ("export", "accounting", "--help")])
def test_these_commands_load_none_of_the_heavy_libraries(argv, ledger_url):
    assert loaded(*argv, "--db", ledger_url) == set()


def test_verify_recomputes_the_rollups_over_numpy_columns_without_pandas(ledger_url):
    assert loaded("verify", "--db", ledger_url) <= {"numpy"}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_reconcile_computes_explains_and_prints_over_numpy_columns_without_pandas(fmt, ledger_url):
    explained = subprocess.run([sys.executable, "-m", "vosbench.commands.main", "reconcile", "--month", "2026-10",
                                "--differences-only", "--format", "csv", "--db", ledger_url],
                               capture_output=True, text=True, check=True).stdout
    assert "balance not updated" in explained  # the balance chain was walked
    assert loaded("reconcile", "--month", "2026-10", "--format", fmt, "--db", ledger_url) <= {"numpy"}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_query_for_the_terminal_prints_a_page_without_pandas_or_numpy(fmt, ledger_url):
    assert loaded("query", "--kind", "deposit", "--sort", "amount", "--format", fmt, "--db", ledger_url) == set()


def test_query_into_a_spreadsheet_loads_no_report_library(ledger_url, tmp_path):
    assert loaded("query", "--format", "xlsx", "--out", str(tmp_path / "q.xlsx"), "--db", ledger_url).isdisjoint(
        {"plotly", "papermill", "nbformat", "ipywidgets"})


@pytest.mark.parametrize("argv", [("info",), ("verify",), ("query", "--format", "csv"),
                                  ("reconcile", "--month", "2026-10", "--format", "csv")])
def test_a_sqlite_ledger_loads_no_server_dialect(argv, ledger_url):
    dialects = {name.split(".")[2] for name in modules(*argv, "--db", ledger_url) if name.startswith("sqlalchemy.dialects.")}
    assert dialects & {"postgresql", "mysql", "mssql", "oracle"} == set()
    assert "sqlite" in dialects  # the probe sees the dialect the ledger does use


@pytest.mark.parametrize("argv", [("info",), ("verify",), ("query", "--format", "csv"),
                                  ("reconcile", "--month", "2026-10", "--format", "csv")])
def test_the_terminal_commands_use_sqlalchemy_core_alone(argv, ledger_url):
    # the ORM costs a start-up ~90 ms of CPU on its own: none of these commands maps objects
    assert [name for name in modules(*argv, "--db", ledger_url) if name.startswith(("sqlalchemy.orm", "sqlalchemy.ext"))] == []


@pytest.mark.parametrize("argv", [("info",), ("verify",), ("query", "--format", "csv"),
                                  ("reconcile", "--month", "2026-10", "--format", "csv")])
def test_a_command_imports_only_the_commands_of_its_own_group(argv, ledger_url):
    group = main.GROUP_OF[argv[0]]
    assert {name.split(".")[2] for name in modules(*argv, "--db", ledger_url) if name.startswith("vosbench.commands.")} \
        <= {group, "options", "main"}


def test_every_command_is_mapped_to_the_group_that_registers_it():
    registered = {}
    for group in main.COMMAND_GROUPS:
        def add(name, handler, help_text, group=group):
            registered[name] = group
            return argparse.ArgumentParser()

        importlib.import_module(f"vosbench.commands.{group}").register(add)
    assert registered == main.GROUP_OF


@pytest.mark.parametrize("argv", [["info", "--db", "D"], ["--db", "D", "info"], ["--db=D", "verify", "--format", "json"],
                                  ["--d", "D", "query", "--kind", "deposit", "--sort", "amount"],
                                  ["reconcile", "--month", "2026-10", "--differences-only", "--db", "D"],
                                  ["views", "list"], ["export", "accounting", "--month", "2026-10", "--to", "xero"],
                                  ["sync", "vos3000-db", "--source", "mysql://u@h/vos"]])
def test_a_command_line_parses_alike_with_its_group_alone_and_with_every_command(argv):
    assert vars(main.build_parser(main.command_named(argv)).parse_args(argv)) == vars(main.build_parser().parse_args(argv))


@pytest.mark.parametrize(("argv", "command"), [(["info"], "info"), (["--db", "reconcile", "query"], "query"),
                                               (["--db=x", "verify"], "verify"), (["-h", "info"], None),
                                               (["--version", "info"], None), (["--db", "x"], None), ([], None)])
def test_the_command_word_is_found_after_the_db_given_before_it(argv, command):
    assert main.command_named(argv) == command  # None: every command is built (help lists them all)
