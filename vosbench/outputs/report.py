"""The papermill runner: validate parameters, execute the audit notebook, convert, collect.

Parameters are checked strictly against the notebook's own ``parameters`` cell (its
names and the types of their defaults), so a YAML file or ``-p key=value`` can never
drift silently from the notebook: an unknown key, a wrong type or unquoted money is
an error that names the key and the fix. A default marked ``# money`` in that cell
must be given as quoted decimal text.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nbformat
import yaml

from vosbench.core import config, money, periods, resources, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.ledger.handle import Ledger

NOTEBOOK = resources.notebook("monthly_audit.ipynb")
DEFAULT_PROFILE = resources.parameters("monthly.yaml")
RUNNER_PARAMETERS = ("output_dir",)
"""Set by the runner itself; a parameters file or override giving them is refused."""
OPTION_PARAMETERS = {"db_url": "--db URL"}
"""Parameters a command takes as its own option: ``-p`` giving them is refused, naming the option."""

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class ParameterError(VosbenchError, ValueError):
    """A parameter is unknown or has a bad value; the message names the key and the fix."""


class AuditFailed(VosbenchError):
    """A notebook cell raised; the message carries the cell's error name and value."""

    exit_code = 1  # the report failed, the input was fine


@dataclass(frozen=True)
class Parameter:
    """One name of the notebook's ``parameters`` cell: its default and whether it is money."""

    name: str
    default: object
    money: bool = False

    @property
    def kind(self) -> str:
        return "money" if self.money else type(self.default).__name__


@dataclass
class AuditOutputs:
    """The files one audit run produced, all inside ``folder``."""

    folder: Path
    notebook: Path
    html: Path
    xlsx: Path | None
    pngs: list[Path] = field(default_factory=list)
    empty: bool = False  # the month holds no records: the report says so, the command exits EXIT_NO_DATA
    month: str = ""  # the month reported (a saved view may have chosen it)
    failed_checks: list[str] = field(default_factory=list)  # the integrity checks the Verification sheet reports failed


# --- the notebook's parameters cell ---------------------------------------------------------------

def notebook_parameters(path: Path | None = None) -> dict[str, Parameter]:
    """The names, defaults and money markers of the cell tagged ``parameters`` (default: the audit notebook)."""
    path = path or NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{path}: expected one cell tagged 'parameters', found {len(cells)}")
    source = cells[0].source
    comments = {token.start[0]: token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                if token.type == tokenize.COMMENT}
    found = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ParameterError(f"{path}: the parameters cell may only hold `name = value` lines "
                                 f"(line {node.lineno} is not one)")
        name = node.targets[0].id
        marked = comments.get(node.lineno, "").lstrip("# ").startswith("money")
        found[name] = Parameter(name, ast.literal_eval(node.value), money=marked)
    return found


# --- validation --------------------------------------------------------------------------------

def _allowed(spec: dict[str, Parameter], *, override: bool = False) -> str:
    """The parameters a file (or, with ``override``, ``-p``) may give, with their types."""
    return ", ".join(f"{p.name} ({p.kind})" for p in spec.values() if p.name not in RUNNER_PARAMETERS
                     and not (override and p.name in OPTION_PARAMETERS))


def _cast(parameter: Parameter, value, origin: str, *, text: bool):
    """``value`` as the parameter's type: ``text`` (from ``-p key=value``) is parsed, YAML values must match."""
    name, default = parameter.name, parameter.default
    if parameter.money:
        if not isinstance(value, str):
            raise ParameterError(
                f"{name} ({origin}): {value!r} was given as a number; money must be quoted decimal text "
                f"so it stays exact: write {name}: \"{value}\" (with the quotes)")
        try:
            money.to_minor(value, field=name)
        except money.MoneyError as error:
            raise ParameterError(f"{name} ({origin}): {error}") from None
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if text and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ParameterError(f"{name} ({origin}): {value!r} is not true or false; give true or false"
                             + ("" if text else " without quotes"))
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if text and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise ParameterError(f"{name} ({origin}): {value!r} is not a whole number; give one such as {default}"
                             + ("" if text else " without quotes"))
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ParameterError(f"{name} ({origin}): {value!r} is not text; put it in quotes")
    raise ParameterError(f"{name}: the notebook's default {default!r} has a type the runner cannot check")


def _check_values(values: dict) -> None:
    """Rules on the values themselves, beyond their types."""
    if not _MONTH.match(str(values.get("month", ""))):
        raise ParameterError(f"month: {values.get('month')!r} is not a month; give it as YYYY-MM, e.g. 2026-10")
    zone = values.get("timezone", "")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParameterError(f"timezone: {zone!r} is not an IANA time zone; give one such as "
                                 "Asia/Dubai, or leave it empty for the ledger's") from None
    if "top_n" in values and values["top_n"] < 1:
        raise ParameterError(f"top_n: {values['top_n']} must be at least 1")
    threshold = values.get("large_payment_threshold")
    if threshold is not None and money.to_minor(threshold) <= 0:
        raise ParameterError(f"large_payment_threshold: {threshold!r} must be above zero")
    if values.get("controls_file"):  # read strictly now, so a bad settings file stops the run before it starts
        from vosbench.controls import SettingsError, load_settings

        try:
            load_settings(values["controls_file"])
        except SettingsError as error:
            raise ParameterError(f"controls_file: {error}") from None


def read_parameter_file(path: Path) -> dict:
    """A YAML mapping of parameters (an empty file is an empty mapping)."""
    path = Path(path)
    try:
        loaded = yaml_problem.load(path.read_bytes())
    except FileNotFoundError:
        raise ParameterError(f"parameters file {path} does not exist; give the path of a YAML file") from None
    except yaml.YAMLError as error:
        raise ParameterError(f"parameters file {path} is not valid YAML: {yaml_problem.described(error)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(f"parameters file {path} must be a mapping of name: value lines")
    return loaded


def resolve_parameters(month: str | None, *, parameters_file: Path | None = None,
                       overrides: dict[str, str] | None = None, notebook: Path | None = None) -> dict:
    """The notebook's defaults, then the file (default: parameters/monthly.yaml), then ``overrides``.

    ``month`` (if given) must agree with a month named in the file or overrides.
    Returns every notebook parameter with a checked value.
    """
    notebook = notebook or NOTEBOOK
    spec = notebook_parameters(notebook)
    values: dict[str, Any] = {name: parameter.default for name, parameter in spec.items()}  # types vary by name
    file = Path(parameters_file) if parameters_file else DEFAULT_PROFILE
    layers = [(read_parameter_file(file) if file.exists() or parameters_file else {}, f"in {file.name}", False),
              ({key: str(value) for key, value in (overrides or {}).items()}, "override", True)]
    for given, origin, text in layers:
        for key, value in given.items():
            if key not in spec:
                raise ParameterError(f"{key} ({origin}): unknown parameter of {notebook.name}; "
                                     f"the parameters are: {_allowed(spec, override=text)}")
            if text and key in OPTION_PARAMETERS:
                raise ParameterError(f"-p {key}: give it as the command's option {OPTION_PARAMETERS[key]} instead; "
                                     f"-p takes: {_allowed(spec, override=True)}")
            if key in RUNNER_PARAMETERS:
                raise ParameterError(f"{key} ({origin}): set by the runner; choose the report folder "
                                     "with out_dir (vosbench audit --out DIR) instead; the parameters are: "
                                     f"{_allowed(spec, override=text)}")
            if value is None:
                raise ParameterError(f"{key} ({origin}): has no value; give one or remove the line")
            values[key] = _cast(spec[key], value, origin, text=text)
    named = [given["month"] for given, _, _ in layers if "month" in given]
    if month is not None:
        if any(str(other) != month for other in named):
            raise ParameterError(f"month: the audit asks for {month} but the parameters say {named[-1]}; "
                                 f"remove month from the parameters or audit {named[-1]}")
        values["month"] = month
    elif not named:
        raise ParameterError("month: no month given; name the month to audit as YYYY-MM")
    _check_values(values)
    for name in ("controls_file", "view"):  # the kernel runs in the report folder: hand it the caller's file
        if str(values.get(name, "")).endswith((".yaml", ".yml")):
            values[name] = str(Path(values[name]).resolve())
    return values


def scoped_month(month: str | None, view: str, url: str) -> str | None:
    """The month a report scoped by saved ``view`` covers: ``month``, else the view's own (one month).

    Looks the view up (a YAML file, the views folder, then the ledger's shared views) before
    any notebook runs, so a missing view or a month outside it is a :class:`ViewError` at once.
    """
    from vosbench.analysis import report_scope

    with Ledger.open(url) as ledger, ledger.engine.connect() as connection:
        view_found, chosen = report_scope.resolve(view, month, connection)
        report_scope.for_month(view_found, periods.month(chosen, ledger.timezone))
    return chosen


# --- running --------------------------------------------------------------------------------

@contextlib.contextmanager
def _ledger_for_kernel(url: str):
    """Hand the ledger URL to the kernel through VOSBENCH_DB, so no password lands in the notebook."""
    before = os.environ.get(config.ENV_DB)
    os.environ[config.ENV_DB] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(config.ENV_DB, None)
        else:
            os.environ[config.ENV_DB] = before


def to_html(notebook_path: Path, html_path: Path, title: str) -> Path:
    """A self-contained HTML report of an executed notebook, without the code."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    notebook = nbformat.read(notebook_path, as_version=4)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    html_path.write_text(_REMOTE_SCRIPT.sub("", body), encoding="utf-8")
    return html_path


# nbconvert's template and plotly add MathJax and require.js from a CDN; the report has no
# formulas and plotly.js is inlined, so they are dropped: the file needs no network at all.
_REMOTE_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>')


def _local_kernel() -> dict:
    """Talk to the report's kernel over local sockets where the system has them.

    The kernel runs on this machine only; over TCP it would listen on a loopback port and
    warn on every run that the traffic is unencrypted. Windows has no IPC transport.
    """
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"

    return {"kernel_manager_class": LocalKernelManager}


def run_notebook(notebook: Path, values: dict, folder: Path, *, url: str, title: str, expected: list[str],
                 stale: Sequence[str] = (), progress: bool = True) -> tuple[Path, Path]:
    """Execute ``notebook`` with ``values`` into ``folder``; write the executed notebook and its HTML.

    The ledger URL reaches the kernel through the environment (never the notebook); files
    an earlier run left are removed first so they cannot pass for this run's; every name in
    ``expected`` must exist afterwards. Raises :class:`AuditFailed` naming the cell that raised.
    Returns (executed notebook, HTML).
    """
    import papermill

    folder.mkdir(parents=True, exist_ok=True)
    notebook_out, html_out = folder / notebook.name, folder / f"{notebook.stem}.html"
    for old in [notebook_out, html_out, *(folder / name for name in stale)]:
        old.unlink(missing_ok=True)
    values = {**values, "output_dir": str(folder), "db_url": ""}
    with _ledger_for_kernel(url):
        try:
            papermill.execute_notebook(notebook, notebook_out, parameters=values, kernel_name="python3",
                                       progress_bar=progress, cwd=folder, log_output=False,
                                       request_save_on_cell_execute=False, **_local_kernel())
        except papermill.PapermillExecutionError as error:
            raise AuditFailed(f"cell {error.exec_count} of {notebook.name} raised {error.ename}: "
                              f"{error.evalue} (the partly executed notebook is {notebook_out})") from None
    to_html(notebook_out, html_out, title)
    missing = [name for name in expected if not (folder / name).exists()]
    if missing:
        raise AuditFailed(f"{notebook.name} ran but did not write {', '.join(missing)} into {folder}")
    return notebook_out, html_out


def run_audit(month: str | None, *, parameters_file: Path | None = None,
              overrides: dict[str, str] | None = None, out_dir: Path | None = None,
              db_url: str | None = None, progress: bool = True, view: str = "") -> AuditOutputs:
    """Run the monthly audit notebook for ``month`` into ``<out_dir>/<month>/`` (default ./reports).

    ``view`` (a saved view's name or YAML file) scopes the report's record sections; the
    month may then be left out when the view lies in one month. The folder is
    ``<month>/view-<name>/`` so it never overwrites the month's full audit.

    Writes the executed notebook, its HTML report, the xlsx and the PNG charts, and
    returns their paths. Raises :class:`ParameterError` before running anything if a
    parameter is wrong, :class:`AuditFailed` if a cell raises.
    """
    from vosbench.outputs import audit
    from vosbench.sources import demo

    named = str((overrides or {}).get("view") or "")
    if view and named and named != view:
        raise ParameterError(f"view: --view {view} and -p view={named} differ; give the view once")
    overrides = {**(overrides or {}), **({"view": view} if view else {})}
    given = read_parameter_file(parameters_file) if parameters_file else {}
    in_file = str(given.get("db_url") or "")
    if db_url and in_file and in_file != db_url:
        raise ParameterError(f"db_url: --db {config.mask_url(db_url)} and db_url {config.mask_url(in_file)} in "
                             f"{Path(parameters_file or '').name} differ; give the ledger once")
    view = str(overrides.get("view") or given.get("view") or "")
    # Without a view every parameter is checked before the ledger opens; a view's month needs the ledger.
    values = None if view else resolve_parameters(month, parameters_file=parameters_file, overrides=overrides)
    chosen_url = db_url or str((values or given).get("db_url") or "")
    with demo.open_or_build(chosen_url or None, progress=progress) as ledger:
        url = ledger.url  # a missing ledger raised StoreError naming the URL and the fix
    if values is None:
        month = scoped_month(month or overrides.get("month") or given.get("month"), view, url)
        values = resolve_parameters(month, parameters_file=parameters_file, overrides=overrides)
    label = values["month"]
    folder = (Path(out_dir) if out_dir else Path.cwd() / "reports").resolve() / label
    if view:  # ledger:NAME without its colon, which some file systems and zip tools refuse
        folder /= f"view-{Path(view).stem.replace(':', '-')}"
    expected = audit.output_names(label, xlsx=values["write_xlsx"], png=values["write_png"])
    notebook_out, html_out = run_notebook(NOTEBOOK, values, folder, url=url,
                                          title=f"Monthly audit {label}" + (f" — view {Path(view).stem}" if view else ""),
                                          expected=expected, stale=audit.output_names(label), progress=progress)
    xlsx = folder / audit.xlsx_name(label) if values["write_xlsx"] else None
    pngs = [folder / name for name in expected if name.endswith(".png")]
    with Ledger.open(url) as ledger:
        empty = audit.month_is_empty(ledger.engine, label, values["timezone"] or None)
    return AuditOutputs(folder=folder, notebook=notebook_out, html=html_out, xlsx=xlsx, pngs=pngs, empty=empty,
                        month=label, failed_checks=audit.failed_checks(xlsx) if xlsx else [])


# --- the finance summary ------------------------------------------------------------------------

SUMMARY_NOTEBOOK = resources.notebook("finance_summary.ipynb")


@dataclass
class SummaryOutputs:
    """The files one finance summary run produced, all inside ``folder``."""

    folder: Path
    notebook: Path
    html: Path
    files: list[Path]
    empty: bool = False  # the month holds no records: the pack says so, the command exits EXIT_NO_DATA
    month: str = ""  # the month summarized (a saved view may have chosen it)


def run_summary(month: str | None, *, subtrees: tuple[str, ...] = (), out_dir: Path | None = None,
                db_url: str | None = None, progress: bool = True, view: str = "") -> SummaryOutputs:
    """Run the finance summary notebook for ``month`` into ``<out_dir>`` (default ./reports/<month>/finance-summary/).

    ``view`` (a saved view's name or YAML file) scopes the pack (default folder
    ``finance-summary-<view>/``); ``month`` may be None when the view lies in one month.
    """
    from vosbench.outputs import audit, finance
    from vosbench.sources import demo

    with demo.open_or_build(db_url, progress=progress) as ledger:
        url = ledger.url  # a missing ledger raised StoreError naming the URL and the fix
    if view:
        view = str(Path(view).resolve()) if view.endswith((".yaml", ".yml")) else view
        month = scoped_month(month, view, url)
    if month is None:
        raise ParameterError("month: no month given; name the month to summarize as YYYY-MM")
    label = periods.month(month, "UTC").label  # the format only; the ledger's zone cuts the month
    name = "finance-summary" + (f"-{Path(view).stem}" if view else "")
    folder = (Path(out_dir) if out_dir else Path.cwd() / "reports" / label / name).resolve()
    names = finance.output_names(label)
    values = {"month": label, "subtrees": ",".join(subtrees), "view": view}
    title = f"Finance summary {label}" + (f" — view {Path(view).stem}" if view else "")
    notebook, html = run_notebook(SUMMARY_NOTEBOOK, values, folder, url=url, title=title,
                                  expected=names, stale=names, progress=progress)
    with Ledger.open(url) as ledger:
        empty = audit.month_is_empty(ledger.engine, label)
    return SummaryOutputs(folder, notebook, html, [folder / name for name in names], empty, label)
