"""The project's own consistency: dependencies, README commands, CI, layout."""

import re
import tomllib
from pathlib import Path

import yaml

from vosbench.commands import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _pip_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    conda_pip = {item for item in pip_section if not item.startswith("-e")}
    assert conda_pip == declared
    assert "-e ." in pip_section
    python = next(item for item in environment["dependencies"] if isinstance(item, str) and item.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = "bash .ci/setup --test && .venv/bin/python -m pytest"
    audit_command = "bash .ci/setup && .venv/bin/vosbench audit --month 2026-10"
    assert test_command in README and audit_command in README
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_every_command_is_documented_in_the_readme():
    parser = main.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps subcommands here
    missing = [name for name in commands if f"`vosbench {name}" not in README]
    assert missing == []


def test_top_level_layout_matches_the_design():
    for name in ("notebooks", "vosbench", "queries", "parameters", "tests", "bench",
                 "environment.yml", "pyproject.toml", "README.md", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_readme_documents_every_csv_column():
    from vosbench.sources.csv_import import FORMATS

    for file_name, (_content, required, optional) in FORMATS.items():
        row = next(line for line in README.splitlines() if line.startswith(f"| `{file_name}`"))
        for column in (*required, *optional):
            assert re.search(rf"\b{column}\b", row), (file_name, column)


def test_the_tree_is_clean_for_ruff():
    """Lint and import order, as configured in pyproject.toml, hold on the whole tree."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ruff", "check", "vosbench", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_package_type_checks_with_mypy():
    """The package's annotations, as configured in pyproject.toml, agree with what the code does."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
