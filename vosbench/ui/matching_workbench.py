"""The statement-matching notebook's engine: import, match, review, decide, export.

:class:`StatementWorkbench` holds one ledger and one month. Its panels are ipywidgets
for live use — an upload panel (FileUpload, profile, channel), a decision panel
(confirm / reject / match by hand, with who and why) and a proposal panel (the deposit
for money that arrived without a record, posted through the maker-checker rules) — and
every panel action goes
through the same methods a script would call, so nothing the analyst types raises into
the notebook: errors become the panel's message and the results on screen stay those
of the last run that worked.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from vosbench.analysis.matching import decisions, propose, review
from vosbench.analysis.matching.matcher import STATUS_MEANING, Settings
from vosbench.core import money
from vosbench.core.errors import VosbenchError
from vosbench.ledger import approvals, policy
from vosbench.ledger.write_door import ImportRejected
from vosbench.outputs import export
from vosbench.outputs.export import Table
from vosbench.sources.bankfiles import importing, profiles
from vosbench.sources.bankfiles.lines import CHANNELS
from vosbench.ui.unopened import Unopened, opened

SHOWN_ROWS = 200
_ERRORS = (ValueError, ImportRejected, VosbenchError)


class StatementWorkbench:
    """One month of statement matching on one ledger."""

    def __init__(self, engine: Engine, month: str, *, window_days: int = 3, controls: str | Path | None = None):
        self.engine = engine
        self.month = month
        self.settings = Settings(window_days=window_days)
        self.controls = controls  # stricter approval thresholds' YAML (policy.for_entries); None: the policy's
        self.message = ""
        self.run = review.run_month(engine, month, settings=self.settings)

    @classmethod
    def open(cls, *, month: str, db_url: str = "", window_days: int = 3, statement_file: str = "",
             profile: str = "", channel: str = "", controls: str = "") -> StatementWorkbench | Unopened:
        """The notebook's entry: the ledger of ``db_url`` (else VOSBENCH_DB, else the demo) for ``month``,
        after importing ``statement_file`` if one is given; ``controls``: stricter approval thresholds' YAML.
        A ledger that cannot be opened gives :class:`UnopenedWorkbench`, which says why in the page."""
        from vosbench.sources import demo

        def open_() -> StatementWorkbench:
            return cls(demo.open_or_build(db_url or None).engine, month, window_days=window_days,
                       controls=controls or None)

        bench = opened(open_, "statement workbench", UnopenedWorkbench)
        if isinstance(bench, StatementWorkbench) and statement_file:
            bench.import_statement(statement_file, profile=profile, channel=channel)
        return bench

    def status(self):
        """What the notebook shows first: which ledger and month, and what the last action did."""
        from IPython.display import Markdown

        from vosbench.core.config import mask_url

        lines = sum(len(group.lines) for group in self.run.groups)
        shown = (f"Matching **{self.month}** on `{mask_url(str(self.engine.url))}`: {lines:,} statement line(s) "
                 f"from {', '.join(self.run.channels) or 'no statement yet'}.")
        return Markdown(shown + (f"\n\n{self.message}" if self.message else ""))

    # --- actions ----------------------------------------------------------------------------

    def rerun(self) -> review.MatchRun:
        self.run = review.run_month(self.engine, self.month, settings=self.settings)
        return self.run

    def import_statement(self, path: str | Path, *, profile: str = "", channel: str = "",
                         name: str | None = None) -> importing.StatementImport:
        """Import a statement file and match again."""
        result = importing.import_file(self.engine, Path(path), profile=profile or None, channel=channel or None,
                                     name=name)
        self.message = (f"{result.file}: {result.added} line(s) added, {result.skipped} already present "
                        f"({result.format}, {result.channel})"
                        + "".join(f"; warning: {warning}" for warning in result.warnings))
        self.rerun()
        return result

    def import_upload(self, name: str, content: bytes, *, profile: str = "", channel: str = ""):
        """Import uploaded bytes under their file name (the suffix tells CSV from XLSX)."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(name).name
            path.write_bytes(content)
            return self.import_statement(path, profile=profile, channel=channel, name=path.name)

    def decide(self, action: str, *, line_ids, payment_ids, decided_by: str, note: str = "") -> int:
        """Record a decision (append-only) and match again with it applied."""
        decision_id = decisions.record(self.engine, action, line_ids=line_ids, payment_ids=payment_ids,
                                       decided_by=decided_by, note=note)
        self.message = f"decision {decision_id} recorded: {action} by {decided_by}"
        self.rerun()
        return decision_id

    def record_proposal(self, line_id: int, *, account: str, operator: str) -> approvals.Submission:
        """Record the deposit proposed for statement line ``line_id`` as ``operator`` would by hand.

        It goes through :func:`vosbench.ledger.approvals.submit`: posted at once below the
        deposit threshold, else kept for a supervisor's approval (and refused while a request
        for the same deposit waits). An account in another currency than the line's is refused.
        The message says which, and whether the line matches the record, from the match run again.
        """
        entry = propose.entry(self.engine, self.run, int(line_id), account)
        done = approvals.submit(self.engine, policy.for_entries(self.controls), operator=operator, **entry)
        amount = money.format_money(money.to_minor(entry["amount"]))
        self.rerun()
        if done.status == "recorded":
            matched = any(line.id == int(line_id) for group in self.run.groups if group.status == "matched"
                          for line in group.lines)
            self.message = (f"recorded payment {done.id}: deposit of {amount} to {entry['account']}; statement line "
                            + (f"{line_id} now matches it" if matched else
                               f"{line_id} does not match it yet: review the line in the match results"))
        else:
            self.message = (f"pending approval: request {done.id} (deposit of {amount} to {entry['account']}: "
                            f"{done.why}); a supervisor approves it with `vosbench approvals "
                            f"approve {done.id} --operator NAME`, and statement line {line_id} then matches")
        return done

    def export(self, output_dir: str | Path) -> Path | None:
        """The run as an xlsx (summary, every item, the decisions); None when ``output_dir`` is empty."""
        if not str(output_dir):
            return None
        label = self.run.period.label
        return export.write_xlsx(Path(output_dir) / f"statement-matching-{label}.xlsx", [
            Table("Summary", f"Statement matching {label}: items per result", self.run.summary(),
                  ("statement_amount", "recorded_amount")),
            Table("Items", f"Every statement line and payment record of {label}, paired or not", self.run.items(),
                  review.MONEY_COLUMNS),
            Table("Decisions", "Analyst decisions (append-only)", decisions.history(self.engine)),
        ])

    # --- views ------------------------------------------------------------------------------

    def summary(self):
        from IPython.display import Markdown

        if not self.run.channels:
            return Markdown(f"No statement lines around {self.month}: upload or import a statement first.")
        return export.styled(Table("Summary", f"Statement matching {self.run.period.label} "
                                              f"({', '.join(self.run.channels)}), window "
                                              f"{self.settings.window_days} days", self.run.summary(),
                                   ("statement_amount", "recorded_amount")))

    def view(self, *statuses: str):
        """The items of ``statuses`` as a table (the first rows; the export holds all)."""
        from IPython.display import Markdown

        unknown = [s for s in statuses if s not in STATUS_MEANING]
        if unknown:
            raise ValueError(f"status {', '.join(unknown)} is unknown; use {', '.join(STATUS_MEANING)}")
        items = self.run.of_status(*statuses)
        title = "; ".join(f"{s}: {STATUS_MEANING[s]}" for s in statuses)
        if items.empty:
            return Markdown(f"**{title}:** none.")
        if len(items) > SHOWN_ROWS:
            title += f" (the first {SHOWN_ROWS} of {len(items)}; the export lists all)"
            items = items.head(SHOWN_ROWS)
        return export.styled(Table("Items", title, items.drop(columns=["score"]), review.MONEY_COLUMNS))

    # --- panels -----------------------------------------------------------------------------

    def upload_panel(self) -> widgets.VBox:
        """FileUpload, profile and channel pickers and an Import button; the message says what happened."""
        upload = widgets.FileUpload(description="Statement", multiple=False)
        profile = widgets.Dropdown(options=[("OFX / CAMT (no profile)", ""), *[(p, p) for p in profiles.available()]],
                                   description="Profile")
        channel = widgets.Dropdown(options=[("as the file says", ""), *[(c, c) for c in CHANNELS]],
                                   description="Channel")
        button = widgets.Button(description="Import and match", button_style="primary")
        status = widgets.HTML()

        def on_import(_):
            if not upload.value:
                status.value = "Choose a file first."
                return
            item = upload.value[0]
            try:
                self.import_upload(item["name"], bytes(item["content"]), profile=profile.value, channel=channel.value)
                status.value = self.message
            except _ERRORS as error:
                status.value = f"<pre>{_escape(str(error))}</pre>"

        button.on_click(on_import)
        panel = widgets.VBox([widgets.HBox([upload, profile, channel, button]), status])
        panel.upload, panel.profile, panel.channel, panel.button, panel.status = upload, profile, channel, button, status
        return panel

    def decision_panel(self, decided_by: str = "") -> widgets.VBox:
        """Confirm, reject or match by hand: the ids come from the tables above."""
        action = widgets.Dropdown(options=["confirm", "reject", "match"], description="Decision")
        lines = widgets.Text(description="Line ids", placeholder="e.g. 12,13")
        payments = widgets.Text(description="Payment ids", placeholder="e.g. 345")
        who = widgets.Text(description="Decided by", value=decided_by)
        note = widgets.Text(description="Why")
        button = widgets.Button(description="Record decision", button_style="warning")
        status = widgets.HTML()

        def on_decide(_):
            try:
                self.decide(action.value, line_ids=lines.value, payment_ids=payments.value, decided_by=who.value,
                            note=note.value)
                status.value = self.message
            except _ERRORS as error:
                status.value = f"<pre>{_escape(str(error))}</pre>"

        button.on_click(on_decide)
        panel = widgets.VBox([widgets.HBox([action, lines, payments]), widgets.HBox([who, note, button]), status])
        panel.action, panel.lines, panel.payments, panel.who, panel.note = action, lines, payments, who, note
        panel.button, panel.status = button, status
        return panel


    def proposal_panel(self, operator: str = "") -> widgets.VBox:
        """The money that arrived without a record: pick a line, check the suggested account, record the deposit."""
        line = widgets.Dropdown(description="Line", layout=widgets.Layout(width="60%"))
        account = widgets.Text(description="Account")
        basis = widgets.HTML()
        who = widgets.Text(description="Operator", value=operator)
        button = widgets.Button(description="Record deposit", button_style="success")
        status = widgets.HTML()
        suggested: dict[int, propose.Suggestion] = {}

        def refresh() -> None:
            suggested.clear()
            suggested.update(propose.suggestions(self.engine, self.run))
            lines = {item.id: item for item in propose.unrecorded(self.run)}
            line.options = [(_label(lines[line_id], suggested[line_id]), line_id) for line_id in sorted(lines)]
            line.value = line.options[0][1] if line.options else None
            on_line()
            button.disabled = not line.options
            if not line.options:
                basis.value = "Every incoming line of the month has its payment record."

        def on_line(_=None) -> None:  # a held suggestion is not filled in: the analyst checks and types the account
            if line.value is not None:
                shown = suggested[line.value]
                account.value, basis.value = shown.account if shown.ready else "", _escape(shown.basis)

        def on_record(_) -> None:
            try:
                self.record_proposal(line.value, account=account.value, operator=who.value)
                status.value = _escape(self.message)
            except _ERRORS as error:
                status.value = f"<pre>{_escape(str(error))}</pre>"
                return
            refresh()

        line.observe(on_line, names="value")
        button.on_click(on_record)
        refresh()
        panel = widgets.VBox([widgets.HBox([line, account]), basis, widgets.HBox([who, button]), status])
        panel.line, panel.account, panel.basis, panel.who, panel.button, panel.status = (
            line, account, basis, who, button, status)
        panel.refresh = refresh
        return panel


def _label(line, suggestion: propose.Suggestion) -> str:
    amount = money.format_money(line.amount)
    who = f" from {line.counterparty}" if line.counterparty else ""
    target = suggestion.account + ("" if suggestion.ready else " (check)") if suggestion.account else "no suggestion"
    return (f"line {line.id}: {date.fromordinal(line.day)} {amount} {line.currency}{who}"
            f"{f' ({line.reference})' if line.reference else ''} → {target}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class UnopenedWorkbench(Unopened):
    """The statement-matching page when its ledger cannot be opened: the first cell (:meth:`status`) says why,
    every later cell a short note instead of a failed cell."""

    def status(self) -> widgets.HTML:
        return self.widget

    upload_panel = summary = view = proposal_panel = decision_panel = export = Unopened.absent
