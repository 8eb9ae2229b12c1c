"""The ledger on a server: the same demo on SQLite, PostgreSQL and MariaDB gives the same numbers to the last digit.

The demo is built on each dialect; reconciliation, controls, every read command and the
audit workbook are compared with the SQLite ledger's, cell by cell. Only what is
naturally different is set aside: the ledger's URL and the instant a report or a manual
entry was made.
"""

from __future__ import annotations

import contextlib
import io
import re

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from db_servers import fresh_database

from vosbench.analysis import reconcile
from vosbench.commands import main
from vosbench.controls import runner
from vosbench.ledger import database, handle, hashchain, identity
from vosbench.outputs import report
from vosbench.sources.demo.build import build_demo
from vosbench.sources.demo.scale import DemoScale
from vosbench.ui.explore_panel import PaymentExplorer

SCALE = DemoScale(customers=40, months=3)
MONTHS = ("2026-08", "2026-09", "2026-10")
SERVERS = ("postgresql", "mysql")
PASSWORD = "operator-pw"


@pytest.fixture(scope="module")
def demos(request, tmp_path_factory) -> dict[str, str]:
    """The small demo built on each dialect: dialect → ledger URL."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'ledger.sqlite'}",
            "postgresql": fresh_database(request.getfixturevalue("postgresql"), "demo"),
            "mysql": fresh_database(request.getfixturevalue("mariadb"), "demo")}
    for url in urls.values():
        build_demo(url, SCALE, progress=False)
    return urls


def _each(demos, read):
    """``read(ledger)`` on every dialect: dialect → what it returned."""
    results = {}
    for dialect, url in demos.items():
        with handle.Ledger.open(url) as ledger:
            assert ledger.engine.dialect.name == dialect
            results[dialect] = read(ledger)
    return results


def test_the_chains_are_identical(demos):
    """The hashed chains (payments, charges, balances) are the same on every dialect; the row chains
    of the other audit tables hold as many rows everywhere, linked over each dialect's own text of a row."""
    fingerprints = _each(demos, lambda ledger: ledger.fingerprint())
    assert fingerprints["sqlite"]["payments"]["rows"] > 200
    assert set(hashchain.ROW_CHAINED_TABLES) <= set(fingerprints["sqlite"])
    for dialect in SERVERS:
        assert set(fingerprints[dialect]) == set(fingerprints["sqlite"])
        for name in hashchain.CHAINED_TABLES:
            assert fingerprints[dialect][name] == fingerprints["sqlite"][name]
        for name in hashchain.ROW_CHAINED_TABLES:
            assert fingerprints[dialect][name]["rows"] == fingerprints["sqlite"][name]["rows"], name


@pytest.mark.parametrize("month", MONTHS)
def test_reconciliations_agree_to_the_last_digit(demos, month):
    results = _each(demos, lambda ledger: reconcile.reconcile(ledger.engine, month))
    expected = results["sqlite"]
    assert len(expected.accounts) > 20
    if month == "2026-10":
        assert (expected.accounts["difference"] != 0).any()  # the planted breaks are there to compare
    for dialect in SERVERS:
        pd.testing.assert_frame_equal(results[dialect].accounts, expected.accounts)
        pd.testing.assert_frame_equal(results[dialect].breaks, expected.breaks)
        assert results[dialect].totals() == expected.totals()


@pytest.mark.parametrize("month", MONTHS)
def test_controls_find_the_same_findings(demos, month):
    def findings(ledger):
        return [(f.finding_id, f) for f in runner.run(ledger.engine, month).findings]

    results = _each(demos, findings)
    if month == "2026-10":
        assert len(results["sqlite"]) > 3
    for dialect in SERVERS:
        assert results[dialect] == results["sqlite"]


def test_the_explore_panel_shows_the_same_page_totals_and_statement(demos, tmp_path):
    def panel(ledger):
        explorer = PaymentExplorer(ledger.engine, export_dir=tmp_path / ledger.engine.dialect.name)
        explorer.text.value = "portal"
        explorer.query()
        shown = explorer.current_page
        return (explorer.totals.value, explorer.grid.caption.value, shown.rows.to_dict("records"),
                shown.total_count)

    results = _each(demos, panel)
    assert results["sqlite"][3] > 0
    for dialect in SERVERS:
        assert results[dialect] == results["sqlite"], dialect


READ_COMMANDS = [
    ["info"], ["verify"], ["demo-key"],
    ["reconcile", "--month", "2026-10", "--format", "json"],
    ["reconcile", "--month", "2026-09", "--subtree", "R0001", "--format", "csv"],
    ["query", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv", "--page-size", "1000"],
    ["query", "--text", "wELCOME", "--format", "json"],
    ["query", "--kind", "deposit", "--min-amount", "100", "--sort", "amount", "--desc"],
    ["controls", "--month", "2026-10", "--format", "json"],
    ["match", "--month", "2026-10", "--format", "json", "--all"],
    ["statements", "list", "--format", "json"],
    ["find-payment", "--amount", "100.00", "--date", "2026-10-10", "--format", "json"],
]

AT = "2026-10-20T10:00:00+04:00"
WRITE_COMMANDS = [
    ["record", "--account", "C00001", "--kind", "deposit", "--amount", "12.50", "--operator", "omar.farouk",
     "--at", AT, "--method", "cash", "--reference", "r1"],
    ["record", "--account", "C00001", "--kind", "deposit", "--amount", "20000", "--operator", "omar.farouk",
     "--at", AT, "--method", "cash", "--reference", "r2"],
    ["approvals", "list"],
    ["approvals", "approve", "1", "--operator", "fatima.saleh"],
    ["approvals", "approve", "1", "--operator", "fatima.saleh"],
    ["reverse", "2", "--reason", "entered twice, ticket #1234", "--operator", "omar.farouk"],
    ["reconcile", "--month", "2026-10", "--format", "csv"],
    ["verify"],
]


def _operator(argv: list[str]) -> str:
    return argv[argv.index("--operator") + 1] if "--operator" in argv else "fatima.saleh"


def _run(argv: list[str], url: str) -> tuple[int, str]:
    """Exit code and output of one command, with the URL and the instants of this run set aside."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main.main([argv[0], "--db", url, *argv[1:]])
    text = out.getvalue()
    text = re.sub(r"(sqlite|postgresql\+psycopg|mysql\+pymysql)://\S+", "<url>", text)
    text = _without_row_chains(text)
    text = re.sub(r"20\d\d-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?( UTC)?", _keep_ledger_times, text)
    return code, re.sub(r"chain head [0-9a-f]{16,}…?", "chain head <hash>", text) if argv == ["verify"] else text


def _without_row_chains(text: str) -> str:
    """Output lines about the row chains and what was not checked set aside: each dialect links its own
    text of a row, so the heads differ, and MariaDB shows its triggers only to the owner, so a clerk's
    `verify` leaves the guards' comparison to the owner (tested in test_server_integrity)."""
    row_chained = tuple(f"{name}:" for name in hashchain.ROW_CHAINED_TABLES)
    return "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith((*row_chained, "NOT CHECKED")))


def _keep_ledger_times(found: re.Match) -> str:
    """The demo's times stay (they are the data); only 'now' (the test's own day) is set aside."""
    return found.group(0) if found.group(0) < "2026-11" else "<now>"


def test_every_read_command_prints_the_same(demos):
    for argv in READ_COMMANDS:
        expected = _run(argv, demos["sqlite"])
        assert expected[0] == 0, (argv, expected[1])
        for dialect in SERVERS:
            assert _run(argv, demos[dialect]) == expected, (dialect, argv)


@pytest.mark.slow
def test_the_audit_workbook_is_the_same_cell_by_cell(demos, tmp_path):
    books = {}
    for dialect, url in demos.items():
        outputs = report.run_audit("2026-09", overrides={"write_png": "false"}, out_dir=tmp_path / dialect,
                                   db_url=url, progress=False)
        workbook = openpyxl.load_workbook(outputs.xlsx)
        books[dialect] = {(sheet.title, cell.coordinate): cell.value
                          for sheet in workbook for row in sheet.iter_rows() for cell in row
                          if sheet.title not in ("Fingerprint", "Provenance")}
        books[dialect].update(_hashed_chain_rows(workbook))
    # the ledger URL and the instant the report was made
    volatile = {("Provenance", "ledger URL"), ("Provenance", "generated at (UTC)")}
    assert volatile <= books["sqlite"].keys()
    assert len(books["sqlite"]) > 500
    for dialect in SERVERS:
        differing = {key for key in books["sqlite"].keys() | books[dialect].keys()
                     if books["sqlite"].get(key) != books[dialect].get(key)}
        assert differing == volatile, dialect


def _hashed_chain_rows(workbook) -> dict:
    """The Provenance items and Fingerprint rows by name, the row chains (each dialect's own heads) set aside."""
    rows = {}
    row_chained = tuple(hashchain.ROW_CHAINED_TABLES)
    for title in ("Fingerprint", "Provenance"):
        for row in workbook[title].iter_rows(values_only=True):
            name = str(row[0])
            if not any(name == table or name.startswith((f"fingerprint {table} ",)) for table in row_chained):
                rows[(title, name)] = tuple(row[1:])
    return rows


def _as_operator(url: str, login: str) -> str:
    """On a server each person connects as their own login; SQLite has none."""
    if url.startswith("sqlite"):
        return url
    return sa.make_url(url).set(username=login, password=PASSWORD).render_as_string(hide_password=False)


def test_manual_entries_approvals_and_reversals_behave_alike(demos):
    """Runs after the read-only tests: it adds records to the shared demos."""
    for url in demos.values():
        if not url.startswith("sqlite"):
            with contextlib.redirect_stdout(io.StringIO()):
                assert main.main(["server", "init", "--db", url]) == 0
            engine = database.make_engine(url)
            for login, role in (("omar.farouk", "clerk"), ("fatima.saleh", "supervisor")):
                identity.register(engine, login, role, password=PASSWORD)  # the demo's operators get logins
            engine.dispose()
    results = {dialect: [_run(argv, _as_operator(url, _operator(argv))) for argv in WRITE_COMMANDS]
               for dialect, url in demos.items()}
    codes = [code for code, _ in results["sqlite"]]
    assert codes == [0, 0, 0, 0, 2, 0, 0, 0]
    assert "already approved" in results["sqlite"][4][1]
    for dialect in SERVERS:
        assert results[dialect] == results["sqlite"], dialect


def test_server_urls_without_a_driver_get_the_installed_one():
    assert database.make_engine("postgresql://someone@127.0.0.1:1/ledger").dialect.driver == "psycopg"
    assert database.make_engine("mysql://someone@127.0.0.1:1/ledger").dialect.driver == "pymysql"
    for elsewhere in ("mssql+pyodbc", "oracle"):  # named as no home for a ledger, never "install its driver"
        with pytest.raises(database.StoreError, match=f"SQLite, PostgreSQL or MariaDB/MySQL, not {elsewhere.split('+')[0]}"):
            database.make_engine(f"{elsewhere}://someone@127.0.0.1:1/ledger")


def test_money_columns_are_whole_numbers_on_every_server(demos):
    def money_types(ledger):
        columns = sa.inspect(ledger.engine).get_columns("payments")
        return {column["name"]: type(column["type"]).__name__.upper() for column in columns
                if column["name"] in ("amount", "balance_after")}

    for dialect, types in _each(demos, money_types).items():
        assert set(types.values()) <= {"BIGINT", "INTEGER"}, (dialect, types)
