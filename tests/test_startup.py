"""Commands load only what they use: the heavy libraries stay out of the commands that never need them.

A fresh interpreter runs the command and reports the modules it loaded (a timed test would
measure the machine; the modules are what a command's start-up costs)."""

import json
import subprocess
import sys

import pytest
from ledger_text import ACCOUNTS, ledger_from_text

HEAVY = ("pandas", "numpy", "plotly", "papermill", "openpyxl", "nbformat", "ipywidgets", "jinja2", "cryptography")

PROBE = """
import contextlib, io, json, sys
from vosbench.commands.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:  # --help
        pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def loaded(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *argv],
                          capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startup")
    ledger_from_text(folder, accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        p1,C1,deposit,100.00,2026-10-01T10:00:00Z,alice,admin,cash
    """)
    return f"sqlite:///{folder / 'ledger.sqlite'}"


@pytest.mark.parametrize("argv", [("--help",), ("info",), ("query", "--help"), ("reconcile", "--help"),
                                  ("audit", "--help"), ("export", "accounting", "--help")])
def test_these_commands_load_none_of_the_heavy_libraries(argv, ledger_url):
    assert loaded(*argv, "--db", ledger_url) == set()


def test_verify_recomputes_the_rollups_over_numpy_columns_without_pandas(ledger_url):
    assert loaded("verify", "--db", ledger_url) <= {"numpy"}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_reconcile_computes_and_prints_over_numpy_columns_without_pandas(fmt, ledger_url):
    assert loaded("reconcile", "--month", "2026-10", "--format", fmt, "--db", ledger_url) <= {"numpy"}


def test_query_for_the_terminal_loads_pandas_but_no_report_or_spreadsheet_library(ledger_url):
    assert loaded("query", "--kind", "deposit", "--format", "csv", "--db", ledger_url) <= {"pandas", "numpy"}
