"""nbval over every notebook in notebooks/, against a small demo ledger.

The notebooks are committed without outputs, so nbval checks that every cell runs;
the strict comparison of an executed audit's outputs is in test_report.py.
"""

import html
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vosbench.sources.demo import DemoScale, build_demo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('nbval') / 'ledger.sqlite'}"
    build_demo(url, DemoScale(resellers=1, agents=2, customers=40, months=4), progress=False)
    return url


def test_there_are_notebooks_to_check():
    assert [path.name for path in NOTEBOOKS] == ["explore_payments.ipynb", "finance_dashboard.ipynb", "finance_summary.ipynb",
                                                 "monthly_audit.ipynb", "statement_matching.ipynb"]


@pytest.mark.parametrize("blank", ["", "  "])
def test_the_explore_notebook_refuses_a_blank_amount_parameter_as_the_cli_does(tmp_path, blank):
    """Left out, an amount parameter is None (no bound); ``-p min_amount ""`` is refused, not read as no bound."""
    import papermill

    notebook = str(ROOT / "notebooks" / "explore_payments.ipynb")
    assert {name: papermill.inspect_notebook(notebook)[name]["default"] for name in ("min_amount", "max_amount")} == {
        "min_amount": "None", "max_amount": "None"}
    with pytest.raises(papermill.PapermillExecutionError,
                       match=r"max_amount: empty; give a decimal amount such as 100\.00 \(leave max_amount out for no bound\)"):
        papermill.execute_notebook(notebook, str(tmp_path / "out.ipynb"), parameters={"max_amount": blank},
                                   kernel_name="python3", progress_bar=False, cwd=str(tmp_path))


def test_the_statement_matching_page_says_why_its_ledger_cannot_be_opened(tmp_path):
    """A file that is no ledger: the first cell says why and what to check, the later cells a short note each,
    and no cell fails (Voilà would show only "There was an error when executing cell [2]")."""
    import papermill

    notes = tmp_path / "notes.sqlite"
    notes.write_bytes(b"minutes of the meeting, not a ledger\n" * 200)
    executed = papermill.execute_notebook(
        str(ROOT / "notebooks" / "statement_matching.ipynb"), str(tmp_path / "out.ipynb"),
        parameters={"db_url": f"sqlite:///{notes}"}, kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    states = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    shown = [html.unescape(states[output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]]["state"]["value"])
             for cell in executed.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert "The statement workbench cannot be opened: the ledger's database refused: file is not a database; check " \
           "the ledger URL (db_url, else VOSBENCH_DB)" in shown[0]
    pages = [cell for cell in executed.cells if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])
             and "injected-parameters" not in cell.metadata.get("tags", [])]
    assert len(shown) == len(pages) == 9 and all("Not shown: the statement workbench could not be opened" in text for text in shown[1:])
    assert not any(output.get("output_type") == "error" for cell in executed.cells for output in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_under_nbval(notebook, small_ledger, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(notebook),
         "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), "--rootdir", str(tmp_path)],
        cwd=tmp_path, env={**os.environ, "VOSBENCH_DB": small_ledger}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
