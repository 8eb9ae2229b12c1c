"""The audit runner: strict parameters checked against the notebook, and a whole run end to end."""

import re
from pathlib import Path

import pytest

from vosbench.outputs import report
from vosbench.outputs.report import ParameterError
from vosbench.sources.demo import DemoScale

ROOT = Path(__file__).resolve().parents[1]
SMALL_DEMO = DemoScale(resellers=1, agents=2, customers=40, months=4)  # 2026-07 .. 2026-10, ~400 records


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_notebook_declares_the_parameters_the_runner_checks():
    spec = report.notebook_parameters()
    assert list(spec) == ["month", "timezone", "db_url", "large_payment_threshold", "top_n", "controls_file",
                          "view", "output_dir", "write_xlsx", "write_png"]
    assert spec["large_payment_threshold"].money and spec["large_payment_threshold"].default == "5000.00"
    assert not spec["month"].money
    assert (spec["top_n"].kind, spec["write_png"].kind, spec["timezone"].kind) == ("int", "bool", "str")


AUDIT_PROFILES = sorted(p for p in (ROOT / "parameters").glob("*.yaml")
                        if p.name not in ("controls.yaml", "gl-mapping.yaml", "retention.yaml"))
"""controls.yaml holds the controls' settings, gl-mapping.yaml the accounting exports' GL mapping and
retention.yaml the retention policy, not audit profiles (test_controls, test_accounting and test_archive
check them)."""


@pytest.mark.parametrize("path", AUDIT_PROFILES, ids=lambda p: p.name)
def test_every_parameters_file_is_valid_for_the_notebook(path):
    values = report.resolve_parameters(None if "month" in report.read_parameter_file(path) else "2026-10",
                                       parameters_file=path)
    given = report.read_parameter_file(path)
    assert given and set(given) <= set(report.notebook_parameters())
    assert all(values[key] == value for key, value in given.items())


def test_defaults_then_file_then_overrides(tmp_path):
    path = write(tmp_path, 'top_n: 3\nlarge_payment_threshold: "100.00"\n')
    values = report.resolve_parameters("2026-09", parameters_file=path,
                                       overrides={"top_n": "7", "write_png": "false"})
    assert values["month"] == "2026-09"
    assert values["top_n"] == 7  # the override beats the file
    assert values["large_payment_threshold"] == "100.00"  # from the file, still text
    assert values["write_png"] is False and values["write_xlsx"] is True  # cast / notebook default


def test_the_controls_file_is_read_strictly_and_handed_on_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "strict.yaml").write_text('approval_thresholds: {USD: {deposit: "500.00"}}\n', encoding="utf-8")
    values = report.resolve_parameters("2026-10", overrides={"controls_file": "strict.yaml"})
    assert values["controls_file"] == str(tmp_path / "strict.yaml")  # the kernel runs in the report folder
    (tmp_path / "typo.yaml").write_text("duplicate_window_minute: 5\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"controls_file: .*typo.yaml: unknown key\(s\) duplicate_window_minute"):
        report.resolve_parameters("2026-10", overrides={"controls_file": "typo.yaml"})
    assert report.resolve_parameters("2026-10")["controls_file"] == ""  # parameters/controls.yaml


def test_without_a_file_the_default_profile_is_used():
    values = report.resolve_parameters("2026-10")
    profile = report.read_parameter_file(report.DEFAULT_PROFILE)
    assert values["large_payment_threshold"] == profile["large_payment_threshold"]


@pytest.mark.parametrize("yaml_text, overrides, message", [
    ("colour: blue\n", {}, r"colour \(in params.yaml\): unknown parameter of monthly_audit.ipynb; "
                           r"the parameters are: month \(str\), .*large_payment_threshold \(money\)"),
    ("", {"topn": "3"}, r"topn \(override\): unknown parameter"),
    ("", {"db_url": "sqlite:///other.sqlite"}, r"^-p db_url: give it as the command's option --db URL instead; "
                                               r"-p takes: month \(str\), timezone \(str\), large_payment_threshold"),
    ("large_payment_threshold: 5000.00\n", {},
     r"large_payment_threshold \(in params.yaml\): 5000.0 was given as a number; money must be quoted"),
    ("large_payment_threshold: 5000\n", {}, r"5000 was given as a number; money must be quoted"),
    ("", {"large_payment_threshold": "5,000"}, r"large_payment_threshold \(override\): .*not a number"),
    ("", {"large_payment_threshold": "0.00001"}, r"more than 4 decimal places"),
    ("", {"large_payment_threshold": "-1"}, r"must be above zero"),
    ("", {"top_n": "ten"}, r"top_n \(override\): 'ten' is not a whole number"),
    # a YAML value must have the parameter's type; only -p key=value text is parsed
    ("top_n: '10'\n", {}, r"top_n .*'10' is not a whole number; give one such as 10 without quotes"),
    ("", {"top_n": "0"}, r"top_n: 0 must be at least 1"),
    ("", {"write_xlsx": "maybe"}, r"write_xlsx \(override\): 'maybe' is not true or false"),
    ("timezone: 4\n", {}, r"timezone .*4 is not text; put it in quotes"),
    ("", {"timezone": "Mars/Olympus"}, r"timezone: 'Mars/Olympus' is not an IANA time zone"),
    ("output_dir: /tmp/x\n", {}, r"output_dir .*set by the runner"),
    ("top_n:\n", {}, r"top_n .*has no value"),
    ("- a list\n", {}, r"must be a mapping"),
    ("", {"controls_file": "no-such-controls.yaml"}, r"controls_file: controls file no-such-controls.yaml: cannot be read"),
])
def test_bad_parameters_are_refused_naming_the_key_and_the_fix(tmp_path, yaml_text, overrides, message):
    with pytest.raises(ParameterError, match=message):
        report.resolve_parameters("2026-10", parameters_file=write(tmp_path, yaml_text), overrides=overrides)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-10", "October", "2026-10-01"])
def test_month_must_be_yyyy_mm(month):
    with pytest.raises(ParameterError, match=r"month: .* give it as YYYY-MM"):
        report.resolve_parameters(month)


def test_month_of_the_file_must_agree_with_the_month_asked(tmp_path):
    path = write(tmp_path, 'month: "2026-10"\n')
    assert report.resolve_parameters(None, parameters_file=path)["month"] == "2026-10"
    assert report.resolve_parameters("2026-10", parameters_file=path)["month"] == "2026-10"
    with pytest.raises(ParameterError, match="asks for 2026-09 but the parameters say 2026-10"):
        report.resolve_parameters("2026-09", parameters_file=path)
    with pytest.raises(ParameterError, match="no month given"):
        report.resolve_parameters(None, parameters_file=write(tmp_path, "top_n: 3\n"))


def test_a_missing_parameters_file_is_named(tmp_path):
    with pytest.raises(ParameterError, match="nope.yaml does not exist"):
        report.resolve_parameters("2026-10", parameters_file=tmp_path / "nope.yaml")


def test_the_parameters_cell_may_hold_only_assignments(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell("month = '2026-10'\nprint(month)",
                                                 metadata={"tags": ["parameters"]})])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(ParameterError, match="only hold `name = value` lines"):
        report.notebook_parameters(path)


def test_papermill_reads_the_same_parameters_as_the_runner():
    import papermill

    # papermill's own parser gives up on a line with a second "=" (e.g. in its comment)
    assert list(papermill.inspect_notebook(str(report.NOTEBOOK))) == list(report.notebook_parameters())


def test_the_stored_notebook_has_no_outputs_and_no_paths_of_this_machine():
    import nbformat

    notebook = nbformat.read(report.NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata["tags"]
    text = report.NOTEBOOK.read_text(encoding="utf-8")
    assert not any(root in text for root in ("/tmp/", "/root/", "/home/", "/work/", "/Users/"))


def test_the_embedded_default_ledger_is_built_as_the_demo_when_missing(tmp_path, monkeypatch):
    from vosbench.core import config
    from vosbench.ledger import database
    from vosbench.sources import demo
    from vosbench.sources.demo import build

    built = []
    monkeypatch.setenv(config.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.setattr(build, "ensure_demo", lambda url, progress: built.append(url) or demo.build_demo(
        url, SMALL_DEMO, progress=False))
    with demo.open_or_build() as ledger:
        assert ledger.url == config.default_db_url() and ledger.fingerprint()["payments"]["rows"] > 0
    assert built == [config.default_db_url()]
    with pytest.raises(database.StoreError, match="no vosbench ledger at"):
        demo.open_or_build(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")


# --- end to end: slow (a small demo ledger, three notebook runs: ~1 minute on 2 cores) -----------

@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    from vosbench.sources.demo import build_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'ledger.sqlite'}"
    build_demo(url, SMALL_DEMO, progress=False)
    return url


@pytest.fixture(scope="module")
def two_runs(demo_url, tmp_path_factory):
    """The same ledger and parameters audited twice, the second from another current directory."""
    first = report.run_audit("2026-10", out_dir=tmp_path_factory.mktemp("first"), db_url=demo_url,
                             overrides={"top_n": "5"}, progress=False)
    elsewhere = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)
        second = report.run_audit("2026-10", db_url=demo_url, overrides={"top_n": "5"}, progress=False)
    return first, second, elsewhere


def sheet_values(path, *, skip_generated_at=False):
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {name: [[cell.value for cell in row] for row in book[name].iter_rows()
                   if not (skip_generated_at and row[0].value == "generated at (UTC)")]
            for name in book.sheetnames}


@pytest.mark.slow
def test_end_to_end_the_report_folder_holds_every_output(two_runs):
    first, second, elsewhere = two_runs
    assert second.folder == elsewhere / "reports" / "2026-10"  # default out: ./reports of the caller
    names = sorted(path.name for path in first.folder.iterdir())
    assert names == sorted(["monthly_audit.ipynb", "monthly_audit.html", "monthly-audit-2026-10.xlsx",
                            "movements-by-kind.png", "movements-by-channel.png", "movements-by-method.png",
                            "trend.png", "reconciliation-results.png", "findings-by-operator.png"])
    assert first.xlsx == first.folder / "monthly-audit-2026-10.xlsx" and len(first.pngs) == 6
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
               for path in first.pngs)


@pytest.mark.slow
def test_end_to_end_html_is_self_contained_without_code(two_runs):
    html = two_runs[0].html.read_text(encoding="utf-8")
    assert "Monthly audit 2026-10" in html and "Headline figures" in html
    assert html.count("Plotly.newPlot(") == 6  # every chart embedded (the 6 PNG charts) …
    assert "plotly.js v" in html  # … with plotly.js inlined, so no network is needed
    assert "MonthlyAudit.open" not in html and "audit.view(" not in html  # no code cells
    assert re.search(r'<script[^>]*src="https?://', html) is None  # no script from a CDN


@pytest.mark.slow
def test_end_to_end_xlsx_totals_equal_the_reconciliation(two_runs, demo_url):
    from decimal import Decimal

    from vosbench.analysis import reconcile
    from vosbench.core import money
    from vosbench.ledger import setup

    values = sheet_values(two_runs[0].xlsx)
    assert list(values) == ["Summary", "Movements", "Large payments", "Top accounts", "Trend", "Reconciliation",
                            "Results", "Differences", "Statement matching", "Breaks", "Verification", "Fingerprint",
                            "Thresholds", "Controls", "Findings", "Provenance"]  # the demo has statements for 2026-10
    engine = setup.open_ledger(demo_url)
    totals = reconcile.reconcile(engine, "2026-10").totals()["USD"]  # the demo's one currency
    engine.dispose()
    header, total_row = values["Reconciliation"][0], values["Reconciliation"][-1]
    assert total_row[0] == "Total USD"
    for column, amount in totals.items():
        assert Decimal(str(total_row[header.index(column)])) == money.to_decimal(amount), column
    rows = values["Reconciliation"][1:-2]  # header, accounts, a blank row, the total
    assert sum(Decimal(str(row[header.index("expected_closing")])) for row in rows) == \
        money.to_decimal(totals["expected_closing"])
    assert len(values["Top accounts"]) == 1 + 5  # the top_n override reached the notebook


@pytest.mark.slow
def test_end_to_end_same_ledger_same_parameters_same_numbers(two_runs):
    first, second, _ = two_runs
    assert sheet_values(first.xlsx, skip_generated_at=True) == sheet_values(second.xlsx, skip_generated_at=True)


@pytest.mark.slow
def test_end_to_end_no_ledger_url_in_the_executed_notebook(two_runs, demo_url):
    import nbformat

    notebook = nbformat.read(two_runs[0].notebook, as_version=4)
    assert notebook.metadata.papermill.parameters["db_url"] == ""  # the URL went to the kernel's environment
    assert notebook.metadata.papermill.parameters["top_n"] == 5


@pytest.mark.slow
def test_end_to_end_rerunning_the_executed_notebook_gives_the_same_outputs(two_runs, demo_url, tmp_path):
    """nbval strict on the executed notebook: only the sanitized volatile parts may change."""
    import os
    import subprocess
    import sys

    executed = tmp_path / "monthly_audit.ipynb"
    executed.write_bytes(two_runs[0].notebook.read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(executed),
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")],
        cwd=tmp_path, env={**os.environ, "VOSBENCH_DB": demo_url}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout


@pytest.mark.slow
def test_end_to_end_a_failing_cell_raises_audit_failed(demo_url, tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell

    notebook = nbformat.read(report.NOTEBOOK, as_version=4)
    notebook.cells.insert(1, new_code_cell('raise ValueError("the ledger is on fire")'))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(notebook, broken)
    monkeypatch.setattr(report, "NOTEBOOK", broken)
    with pytest.raises(report.AuditFailed, match="raised ValueError: the ledger is on fire"):
        report.run_audit("2026-10", out_dir=tmp_path / "out", db_url=demo_url, progress=False)
