"""An account's statement as a document to send its holder: PDF, xlsx or CSV.

The figures are :func:`vosbench.analysis.account_statement.account_statement`'s — the
opening balance, every payment and every day's charges with the running balance, the
closing — presented for a customer or reseller: money in and out in the account's
currency, each payment's reference, times in the reporting zone to the second, and the
rows where the balance the switch reported disagrees with the records marked. Operator
logins and internal notes stay out. Money is shown with two places when every amount is
whole cents, else with the four the ledger keeps, so nothing shown is rounded.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.analysis.account_statement import CHARGES, Statement, account_statement
from vosbench.core import money, periods, timeshow
from vosbench.core.errors import VosbenchError
from vosbench.ledger import account_history, database, tables
from vosbench.ledger.hashchain import fingerprint
from vosbench.outputs import STATEMENT_FORMATS, export, pdf, provenance, views
from vosbench.outputs.visible import visible_value

FORMATS = STATEMENT_FORMATS
TEMPLATE = Path(__file__).parent / "templates" / "statement.html"
KIND_LABELS = {"deposit": "Payment received", "withdrawal": "Withdrawal", "adjustment": "Balance adjustment",
               "bonus": "Bonus credit", "commission": "Commission", "auto_recharge": "Automatic recharge"}
LINE_COLUMNS = ("time", "description", "reference", "payment_id", "money_in", "money_out", "balance",
                "reported_balance", "note")
MONEY_COLUMNS = ("money_in", "money_out", "balance", "reported_balance")


class StatementScopeError(VosbenchError):
    """An account or subtree that is not in the ledger; the message names it and the fix."""


@dataclass(frozen=True)
class CustomerStatement:
    """A statement with what the document needs besides the figures: the holder's currency and kind, who issues it."""

    statement: Statement
    currency: str
    account_kind: str
    references: dict[int, tuple[str, int | None]]  # payment id -> (reference, the payment it reverses)
    fingerprint: str

    @property
    def money_in(self) -> int:
        return money.exact_sum(self.statement.lines["amount"].clip(lower=0))

    @property
    def money_out(self) -> int:
        return -money.exact_sum(self.statement.lines["amount"].clip(upper=0))

    @property
    def places(self) -> int:
        """2 when every amount shown is whole cents, else 4: the document never rounds."""
        lines = self.statement.lines
        values = [self.statement.opening, self.statement.closing,
                  *lines["amount"].dropna(), *lines["running_balance"].dropna(),
                  *lines["reported_balance_after"].dropna()]
        return 2 if all(int(value) % 100 == 0 for value in values) else 4

    def lines(self) -> pd.DataFrame:
        """The statement's rows as the holder reads them (money as int minor units)."""
        source = self.statement.lines
        timezone = self.statement.timezone
        rows = []
        for line in source.itertuples(index=False):
            amount = int(line.amount)
            is_charge = line.what == CHARGES
            payment_id = None if pd.isna(line.payment_id) else int(line.payment_id)
            reported = None if pd.isna(line.reported_balance_after) else int(line.reported_balance_after)
            difference = None if pd.isna(line.discrepancy) else int(line.discrepancy)
            note = ""
            if difference and reported is not None:
                note = (f"balance reported after this payment: {money.format_money(reported, self.places)} "
                        f"(differs by {money.format_money(difference, self.places)})")
            reference, reverses = self.references.get(payment_id, ("", None)) if payment_id is not None else ("", None)
            description = (_charges_text(line.description) if is_charge
                           else _payment_text(str(line.kind), amount, reverses))
            rows.append((timeshow.shown(line.instant, timezone), description, reference, payment_id,
                         amount if amount > 0 else None, -amount if amount < 0 else None,
                         int(line.running_balance), reported, note))
        # never through float64, which holds amounts past 2**53 minor units inexactly; a balance past int64
        # (absurd amounts added up) stays a Python integer
        return views.figures_frame(rows, LINE_COLUMNS, ("payment_id", *MONEY_COLUMNS))


_CHARGES = re.compile(r"charges of (?P<day>\S+): (?P<fees>.*) \((?P<calls>\d+) calls\)")


def _charges_text(description: str) -> str:
    """A day's charges as the holder reads them: 'Call charges of 2026-10-05 (3 calls)', fees listed when mixed."""
    found = _CHARGES.fullmatch(description)
    if found is None:
        return description
    if found["fees"].startswith("call fees") and "," not in found["fees"]:
        return f"Call charges of {found['day']} ({found['calls']} calls)"
    return f"Charges of {found['day']}: {found['fees']} ({found['calls']} calls)"


def _payment_text(kind: str, amount: int, reverses: int | None) -> str:
    if reverses is not None:
        return f"Reversal of payment {reverses}"
    if kind == "deposit" and amount < 0:
        return "Payment correction"
    return KIND_LABELS.get(kind, kind)


def build(engine: Engine, account: str, start: date, end: date) -> CustomerStatement:
    """The statement of ``account`` for local days ``start`` .. ``end`` with its document details."""
    statement = account_statement(engine, account, start, end)
    ids = [int(value) for value in statement.lines["payment_id"].dropna()]
    with engine.connect() as connection:
        holder = connection.execute(sa.select(tables.current_accounts.c.currency, tables.current_accounts.c.kind)
                                    .where(tables.current_accounts.c.account == account)).one()
        references = {}
        for chunk in (ids[start_at:start_at + 1000] for start_at in range(0, len(ids), 1000)):
            query = sa.select(tables.payments.c.id, tables.payments.c.reference,
                              tables.payments.c.reverses_id).where(tables.payments.c.id.in_(chunk))
            references.update({row.id: (row.reference, row.reverses_id) for row in connection.execute(query)})
        short = provenance.fingerprint_short(fingerprint(connection))
    return CustomerStatement(statement, holder.currency, holder.kind, references, short)


def subtree(engine: Engine, root: str, last_day: date) -> list[str]:
    """``root`` and every account below it, by account number, parents before children.

    The tree is the one that stood at the end of ``last_day`` (the ledger's zone), the last
    day reported: an account that moved later is still reported where it was then.
    """
    with engine.connect() as connection:
        end = periods.day_end(last_day, database.ledger_timezone(connection))
        tree = account_history.tree_as_of(connection, end)
    return members(tree, root)


def members(tree: account_history.TreeAsOf, root: str) -> list[str]:
    """``root`` and every account below it in ``tree``, by number; a :class:`StatementScopeError` if unknown."""
    found = tree.members(root)
    if found is None:
        raise StatementScopeError(f"subtree {root!r} is not in the ledger; give an account number "
                                  "(accounts are matched on number, never on name)")
    return [number for _, number in found]


def file_name(account: str, start: date, end: date, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in account)
    return f"statement-{safe}-{start}-{end}.{fmt}"


def write(document: CustomerStatement, path: Path, fmt: str) -> Path:
    """Write ``document`` as ``fmt`` (pdf, xlsx or csv) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        export.write_csv(_with_edges(document), path, MONEY_COLUMNS)
    elif fmt == "xlsx":
        export.write_xlsx(path, _sheets(document))
    elif fmt == "pdf":
        with tempfile.TemporaryDirectory(prefix="vosbench-statement-") as folder:
            page = Path(folder) / "statement.html"
            page.write_text(html(document), encoding="utf-8")
            pdf.html_to_pdf(page, path)
    else:
        raise VosbenchError(f"statement format {fmt!r} is unknown; use one of: {', '.join(FORMATS)}")
    return path


def _with_edges(document: CustomerStatement) -> pd.DataFrame:
    """The lines between an opening and a closing row, as a plain CSV carries them (no comment lines)."""
    statement = document.statement
    edge = dict.fromkeys(LINE_COLUMNS)
    opening = {**edge, "time": str(statement.period_start), "description": "Opening balance",
               "balance": statement.opening}
    closing = {**edge, "time": str(statement.period_end), "description": "Closing balance",
               "balance": statement.closing}
    rows = [tuple(opening.values()), *document.lines().itertuples(index=False, name=None), tuple(closing.values())]
    frame = views.figures_frame(rows, LINE_COLUMNS, ("payment_id", *MONEY_COLUMNS))
    return frame.rename(columns={"time": timeshow.heading("time", statement.timezone)})


def _sheets(document: CustomerStatement) -> list[export.Table]:
    statement = document.statement
    lines = document.lines()
    summary = pd.DataFrame({
        "item": ["account", "name", "account type", "currency", "from (local day)", "to (local day)",
                 "time zone", "opening balance", "payments and credits", "charges and withdrawals",
                 "closing balance", "rows where the reported balance disagrees", "ledger"],
        "value": [statement.account, statement.name, document.account_kind, document.currency,
                  str(statement.period_start), str(statement.period_end), statement.timezone,
                  *(str(money.to_decimal(v)) for v in (statement.opening, document.money_in, document.money_out,
                                                       statement.closing)),
                  str(int((lines["note"] != "").sum())), document.fingerprint],
    })
    renamed = lines.rename(columns={"time": timeshow.heading("time", statement.timezone)})
    return [export.Table("Statement", "Statement", summary),
            export.Table("Lines", "Lines", renamed, MONEY_COLUMNS,
                         totals={"money_in": document.money_in, "money_out": document.money_out}),
            export.Table("Disagreements", "Reported balance disagreements",
                         renamed[renamed["note"] != ""].reset_index(drop=True), MONEY_COLUMNS)]


def html(document: CustomerStatement) -> str:
    """The statement as a printable A4 page (the PDF's source)."""
    import jinja2

    statement, places = document.statement, document.places

    def shown(minor) -> str:
        return "" if minor is None or pd.isna(minor) else money.format_money(int(minor), places)

    lines = [{"when": row.time, "description": row.description, "reference": row.reference,
              "money_in": shown(row.money_in), "money_out": shown(row.money_out), "balance": shown(row.balance),
              "note": row.note,
              "css": " ".join(filter(None, ("charges" if row.payment_id is pd.NA or pd.isna(row.payment_id) else "",
                                            "disagrees" if row.note else "")))}
             for row in document.lines().itertuples(index=False)]
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=visible_value)
    template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        account=statement.account, name=statement.name, account_kind=document.account_kind,
        currency=document.currency, start=statement.period_start, end=statement.period_end,
        timezone=statement.timezone, issued=timeshow.shown(datetime.now(UTC), statement.timezone),
        opening=shown(statement.opening), closing=shown(statement.closing), money_in=shown(document.money_in),
        money_out=shown(document.money_out), lines=lines, time_heading=timeshow.heading("Time", statement.timezone),
        disagreements=sum(1 for line in lines if line["note"]), fingerprint=document.fingerprint)
