"""The ledger's tables: what every record, total, statement line and decision is stored as.

Money columns are BIGINT minor units (see :mod:`vosbench.core.money`); times are naive
UTC datetimes; a charge ``day`` is a calendar date in the ledger's reporting time
zone. The append-only guards that protect these tables are in :mod:`vosbench.ledger.guards`;
creating and upgrading them is :mod:`vosbench.ledger.setup`'s.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

SCHEMA_VERSION = "11"  # 2: explore indexes on payments, per-kind counts in account_months; 3: every audit
# table guarded against replacement by any key and chained through row_links; reversal requests;
# 4: account versions and the current_accounts view, prior-period items, retention archives;
# 5: the guard keeping the currency of an account that holds money;
# 6: threshold guards that fail closed, refuse a misshapen payment, tie an approval to its request's
# entry and refuse a threshold raised without a reason; 7: the guards refusing an account whose currency is
# no ISO 4217 currency of money and, on a server, those binding a person's row (a manual entry, a close, a
# decision, an annotation, a matching decision, a shared view) to the login inserting it; 8: the UTC instants
# of each closed month (month_spans) and the guards refusing a payment or charge dated into or before a closed month;
# on a server, close requests (close_requests) that a second login confirms; 9: the guards refusing a balance dated
# into or before a closed month and, on SQLite, a record dated by no time; on a server those keeping archives and
# purged ranges to the owner and a close request's withdrawal to its requester, and the chain heads and import
# batches hidden from scoped logins; 10: on a server, the operators registered by the owner alone and the writers'
# DELETE kept to the kept-up tables a write replaces rows of (not the month totals); 11: the indexes of
# RETIRED_INDEXES dropped (a smaller file, a faster import)

metadata = sa.MetaData()

RETIRED_INDEXES = {"payments": ("ix_payments_operator_time",), "account_months": ("ix_account_months_month",)}
"""Indexes an earlier schema made that no query needs enough to pay for them (bench/results/optional-indexes-1m.txt):
the payment columns answer the explore panel's operator filters, and the payment rollup's operators' months its list
of operators, the filter's check and the trends of operators over whole months. On SQL alone (while the columns are
built) a rare operator's page now reads most of the ledger: at 10M payments seconds, where the operator index took
tens of ms. A month of every account's kept totals reads as fast without the month index. Schema 11 drops them: 76
of the 794 MB of a 1M-payment ledger, and their upkeep at every append."""

Money = sa.BigInteger


class UtcDateTime(sa.DateTime):
    """A naive UTC time, kept to the microsecond on every dialect (MySQL/MariaDB: ``DATETIME(6)``).

    A DateTime of its own rather than a MySQL variant, so that defining the tables loads
    no MySQL dialect: the commands that open a SQLite ledger start faster.
    """

    cache_ok = True


@compiles(UtcDateTime, "mysql")
@compiles(UtcDateTime, "mariadb")
def _to_the_microsecond(type_, compiler, **kw) -> str:
    return "DATETIME(6)"


UtcTime = UtcDateTime()

ledger_meta = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("content", sa.String(32), nullable=False),  # accounts, payments, charges, balances
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("rows_added", sa.Integer, nullable=False),
    sa.Column("rows_skipped", sa.Integer, nullable=False),
    sa.Column("imported_at", UtcTime, nullable=False),
    sa.Column("vosbench_version", sa.String(32), nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("accounts.id"), index=True),
    sa.Column("credit_limit", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
)

account_versions = sa.Table(  # a change of an account's details; the latest one is the account as it is now
    "account_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("accounts.id")),
    sa.Column("credit_limit", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("changed_by", sa.String(128), nullable=False),  # the source or operator that brought the change
    sa.Column("changed_at", UtcTime, nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Index("ix_account_versions_account", "account_id", "id"),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("occurred_at", UtcTime, nullable=False),
    sa.Column("recorded_at", UtcTime, nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("memo", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("balance_after", Money),
    # UNIQUE: the database itself refuses a second reversal of the same record.
    sa.Column("reverses_id", sa.Integer, sa.ForeignKey("payments.id"), unique=True),
    sa.Column("approved_by", sa.String(64), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("source_key", sa.String(255), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("source", "source_key", name="uq_payments_source_key"),
    sa.Index("ix_payments_account_time", "account_id", "occurred_at"),
    sa.Index("ix_payments_time", "occurred_at"),
    # The explore filter of a kind and amount range, and a page by amount read kind by kind in order,
    # when SQL answers (a text search, or the payment columns not built yet): at 1M payments a page
    # by amount took 20 ms through it and 1.5 s without (bench/optional_indexes.py).
    sa.Index("ix_payments_kind_amount", "kind", "amount"),
)

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("call_fee", Money, nullable=False),
    sa.Column("agent_fee", Money, nullable=False),
    sa.Column("other_fee", Money, nullable=False),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "day", name="uq_charges_account_day"),
    sa.Index("ix_charges_day", "day"),
)

balance_snapshots = sa.Table(
    "balance_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("as_of", UtcTime, nullable=False),
    sa.Column("balance", Money, nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "as_of", name="uq_snapshots_account_as_of"),
    sa.Index("ix_snapshots_as_of", "as_of"),
)

# Derived, kept in the same transaction as every append; `verify` recomputes it.
PAYMENT_KIND_COLUMNS = ("deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge")
MONTH_TOTAL_COLUMNS = (*PAYMENT_KIND_COLUMNS, "call_fee", "agent_fee", "other_fee")
KIND_COUNT_COLUMNS = tuple(f"{kind}_count" for kind in PAYMENT_KIND_COLUMNS)
"""Records per kind and month: with the sums they answer an unfiltered or month-aligned count."""
account_months = sa.Table(
    "account_months",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM in the ledger's time zone
    *(sa.Column(name, Money, nullable=False, default=0) for name in MONTH_TOTAL_COLUMNS),
    sa.Column("calls", sa.Integer, nullable=False, default=0),
    sa.Column("payment_count", sa.Integer, nullable=False, default=0),
    sa.Column("closing", Money, nullable=False, default=0),
    # Last, so that a ledger of schema 1 gains them by ALTER TABLE in the same column order.
    *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in KIND_COUNT_COLUMNS),
    # SQLite: the rows live in their (account, month) key's tree, not beside it in a rowid tree
    # (on 100k payments + 109k charge days: the table 15% smaller, its bulk inserts 20% cheaper).
    # A ledger made before keeps its rowid table; both read and write alike.
    sqlite_with_rowid=False,
)

# Derived for the explore panel, kept in the same transaction as every append; `verify` recomputes them.
account_tree = sa.Table(  # every account under each account at any depth, itself included (its current parents)
    "account_tree",
    metadata,
    sa.Column("ancestor_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Index("ix_account_tree_account", "account_id"),
)

def _rollup_cell() -> tuple[sa.Column, ...]:
    """The columns every explore rollup shares after its own key: what a cell is kept by, and its count and sum."""
    return (
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("method", sa.String(16), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),  # the account's current currency
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("amount", Money, nullable=False),
    )


payment_rollup = sa.Table(  # count and sum of the payments per local month ('M'), day ('D') or operator and month ('O')
    "payment_rollup",
    metadata,
    sa.Column("grain", sa.String(1), primary_key=True),
    sa.Column("operator", sa.String(64), primary_key=True),  # '' in the month and day rows, which sum every operator
    sa.Column("period", sa.String(10), primary_key=True),  # YYYY-MM or YYYY-MM-DD in the ledger's time zone
    *_rollup_cell(),
)

account_rollup = sa.Table(  # count, sum and |sum| of the payments per account (own 'A', or below it 'B') and local month
    "account_rollup",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("part", sa.String(1), primary_key=True),  # 'A' the account's own records, 'B' those of accounts under it
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM in the ledger's time zone
    *_rollup_cell(),
    sa.Column("moved", Money, nullable=False),  # the sum of |amount|: what ranks the top accounts
    sqlite_with_rowid=False,
)

amount_rollup = sa.Table(  # count and sum of the payments per local month and bucket of |amount| (1-2-5 minor units)
    "amount_rollup",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM in the ledger's time zone
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # the bucket's lower bound of |amount|
    *_rollup_cell(),
)

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
)

row_links = sa.Table(  # the chain of the guarded tables without a hash column, one link per row
    "row_links",
    metadata,
    sa.Column("table_name", sa.String(32), primary_key=True),
    sa.Column("row_id", sa.Integer, primary_key=True),  # the row's rowid (its id where it has one)
    sa.Column("hash", sa.String(64), nullable=False),  # sha256(previous link + the row's json_array text)
)

# --- statements: bank, gateway, IVR and crypto records matched against payments (vosbench.statements) ---
statement_imports = sa.Table(
    "statement_imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),  # ofx, camt053, csv, xlsx
    sa.Column("profile", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # bank, gateway, ivr, crypto
    # the source's fee schedule, from the profile: what it keeps of each payment
    sa.Column("fee_percent", sa.String(16), nullable=False),  # decimal text, e.g. '2.9'
    sa.Column("fee_fixed", Money, nullable=False),
    sa.Column("fee_tolerance", Money, nullable=False),
    sa.Column("statements", sa.Integer, nullable=False),
    sa.Column("lines_added", sa.Integer, nullable=False),
    sa.Column("lines_skipped", sa.Integer, nullable=False),
    sa.Column("imported_at", UtcTime, nullable=False),
    sa.Column("vosbench_version", sa.String(32), nullable=False),
)

statement_lines = sa.Table(
    "statement_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("statement_imports.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("statement_account", sa.String(128), nullable=False),  # IBAN, OFX ACCTID, profile's source
    sa.Column("statement_id", sa.String(128), nullable=False),
    sa.Column("line_key", sa.String(255), nullable=False),  # bank's transaction id, else a content hash
    sa.Column("posted_on", sa.Date, nullable=False),
    sa.Column("value_on", sa.Date),
    sa.Column("amount", Money, nullable=False),  # signed: + money in
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("counterparty", sa.String(255), nullable=False),
    sa.Column("account_hint", sa.String(64), nullable=False),  # a ledger account the source names, if any
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.UniqueConstraint("statement_account", "line_key", name="uq_statement_lines_key"),
    sa.Index("ix_statement_lines_posted", "posted_on"),
    sa.Index("ix_statement_lines_amount", "amount"),
)

statement_import_warnings = sa.Table(
    "statement_import_warnings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("statement_imports.id"), nullable=False, index=True),
    # what the reader bent the rules for (a missing balance, a byte-order mark, a field cut), once each
    sa.Column("warning", sa.Text, nullable=False),
)

match_decisions = sa.Table(
    "match_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(16), nullable=False),  # confirm, reject, match
    sa.Column("line_ids", sa.String(512), nullable=False),  # comma-separated statement_lines ids
    sa.Column("payment_ids", sa.String(512), nullable=False),  # comma-separated payments ids
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

# --- controls: who the operators are, agents' rates, maker-checker, finding notes ---
# Reference data the controls read: the back office as configured, not a journal.
operators = sa.Table(
    "operators",
    metadata,
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("shift_start", sa.Integer, nullable=False),  # minutes after local midnight
    sa.Column("shift_end", sa.Integer, nullable=False),
    sa.Column("working_days", sa.String(16), nullable=False),  # ISO weekdays, e.g. '12345'
)

operator_accounts = sa.Table(  # accounts an operator owns or manages (self-dealing check)
    "operator_accounts",
    metadata,
    sa.Column("login", sa.String(64), sa.ForeignKey("operators.login"), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("relation", sa.String(64), nullable=False),
)

commission_rates = sa.Table(  # an agent's or reseller's configured rate on its sub-accounts' call fees
    "commission_rates",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("rate", sa.String(16), nullable=False),  # decimal text, e.g. '0.035'
)

approval_requests = sa.Table(  # a manual entry above its threshold, waiting for a second operator
    "approval_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("requested_at", UtcTime, nullable=False),
    sa.Column("maker", sa.String(64), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("occurred_at", UtcTime, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("memo", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("threshold", Money, nullable=False),
    sa.Column("reverses_id", sa.Integer, sa.ForeignKey("payments.id")),  # a reversal waiting for approval
)

approval_decisions = sa.Table(
    "approval_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # UNIQUE: a request is decided once.
    sa.Column("request_id", sa.Integer, sa.ForeignKey("approval_requests.id"), nullable=False, unique=True),
    sa.Column("decision", sa.String(16), nullable=False),  # approved, rejected
    sa.Column("checker", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id")),
)

approval_thresholds = sa.Table(  # the approval threshold of a currency's kind of entry; the newest of a pair is in force
    "approval_thresholds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),  # minor units
    sa.Column("set_by", sa.String(64), nullable=False),  # a supervisor, or 'installer' for the controls file's seed
    sa.Column("set_at", UtcTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.CheckConstraint("amount > 0", name="ck_approval_thresholds_amount"),
    sa.Index("ix_approval_thresholds_pair", "currency", "kind", "id"),
)

finding_annotations = sa.Table(  # an auditor's status and note on a finding; the latest one counts
    "finding_annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("annotated_at", UtcTime, nullable=False),
)

month_closes = sa.Table(  # closes and reopens of months (vosbench.ledger.month_close); the last one counts
    "month_closes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False, index=True),  # YYYY-MM in the ledger's time zone
    sa.Column("action", sa.String(8), nullable=False),  # close, reopen
    sa.Column("closed_by", sa.String(64), nullable=False),
    sa.Column("second", sa.String(64), nullable=False),  # who confirmed it ('' where the ledger has no identities)
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_at", UtcTime, nullable=False),
    sa.Column("receipt", sa.Text, nullable=False),  # canonical JSON: chain heads, counts, closings
    sa.Column("receipt_sha256", sa.String(64), nullable=False),
)

close_requests = sa.Table(  # on a server, a supervisor's request to close or reopen a month, which another login confirms
    "close_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False, index=True),
    sa.Column("action", sa.String(8), nullable=False),  # close, reopen
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested_at", UtcTime, nullable=False),
)

month_spans = sa.Table(  # the UTC instants [starts_at, ends_at) of the month each close closed, cut in the ledger's zone
    "month_spans",  # when it closed: the database refuses a payment dated in or before a month whose latest event is a close
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # the month_closes row; no foreign key: a close record removed behind the guards is for verify to name
    sa.Column("close_id", sa.Integer, nullable=False, unique=True),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("starts_at", UtcTime, nullable=False),
    sa.Column("ends_at", UtcTime, nullable=False),
    sa.Index("ix_month_spans_end", "ends_at"),  # a record after every closed month (the most) finds none at once
)

prior_period_items = sa.Table(  # a synced record dated into a closed month, posted in the first open one
    "prior_period_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=False, unique=True),
    sa.Column("occurred_at", UtcTime, nullable=False),  # when the source says it happened (naive UTC)
    sa.Column("closed_month", sa.String(7), nullable=False),  # the closed month it is dated into
    sa.Column("posted_month", sa.String(7), nullable=False, index=True),  # where the ledger posted it
)

# Retention (vosbench.ledger.archive): older closed months written to an archive folder, verified, then purged.
archives = sa.Table(
    "archives",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("before_month", sa.String(7), nullable=False),  # every record dated before it was archived
    sa.Column("folder", sa.Text, nullable=False),  # where the archive was written
    sa.Column("archived_by", sa.String(64), nullable=False),
    sa.Column("archived_at", UtcTime, nullable=False),
    sa.Column("manifest", sa.Text, nullable=False),  # canonical JSON: counts, sums, hashes, files
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
)

purged_ranges = sa.Table(  # ids a purge removed: the only rows the journal's guards let go, and the chain across
    "purged_ranges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("archive_id", sa.Integer, sa.ForeignKey("archives.id"), nullable=False),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("first_id", sa.Integer, nullable=False),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("previous_hash", sa.String(64), nullable=False),  # the chain's link before first_id
    sa.Column("last_hash", sa.String(64), nullable=False),  # the link of last_id: where the chain resumes
    sa.UniqueConstraint("table_name", "first_id", name="uq_purged_ranges_start"),
)

saved_views = sa.Table(  # views analysts share (vosbench.analysis.saved_views); a name's latest version counts
    "saved_views",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(80), nullable=False, index=True),
    sa.Column("document", sa.Text, nullable=False),  # the view as the YAML a views file holds
    sa.Column("saved_by", sa.String(64), nullable=False),  # a registered operator (a server's login)
    sa.Column("saved_at", UtcTime, nullable=False),
)

# Source syncs (vosbench.sources.vos3000): how far each stream of a source has been read, saved in
# the same transaction as the rows it covers, and what the sync noticed on the way.
sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("source", sa.String(128), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),  # e.g. e_payhistory, charges
    sa.Column("mark", sa.String(64), nullable=False),  # high-water mark: last id, or last day
    sa.Column("rows_read", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcTime, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),  # JSON: source URL (masked), choices, version
)

sync_marks = sa.Table(  # every mark a sync saved, in order: the history sync_state's current marks come from
    "sync_marks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("stream", sa.String(64), nullable=False),
    sa.Column("mark", sa.String(64), nullable=False),
    sa.Column("rows_read", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcTime, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),
    sa.Index("ix_sync_marks_stream", "source", "stream"),
)

sync_flags = sa.Table(
    "sync_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("stream", sa.String(64), nullable=False),
    sa.Column("source_key", sa.String(255), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.UniqueConstraint("source", "stream", "source_key", "code", name="uq_sync_flags_key"),
)

APPEND_ONLY_TABLES = ("payments", "charges", "balance_snapshots", "import_batches", "accounts", "account_versions",
                      "operators", "operator_accounts", "commission_rates",
                      "statement_imports", "statement_lines", "statement_import_warnings", "match_decisions",
                      "approval_requests", "approval_decisions", "finding_annotations", "sync_marks",
                      "sync_flags", "month_closes", "month_spans", "close_requests", "prior_period_items", "archives", "purged_ranges",
                      "saved_views", "approval_thresholds")
"""Every table an audit relies on: UPDATE, DELETE and replacement refused, every row chained.
(``sync_state`` is not among them: it holds each stream's latest mark, derived from ``sync_marks``.)"""

views = sa.MetaData()  # read through SQLAlchemy like tables, created by setup as views (not by create_all)

current_accounts = sa.Table(  # every account as it is now: its first row with its latest version's details
    "current_accounts",
    views,
    *(sa.Column(column.name, column.type, primary_key=column.primary_key) for column in accounts.columns),
)

CURRENT_ACCOUNTS_SQL = (
    "CREATE VIEW current_accounts AS SELECT a.id, a.account, COALESCE(v.name, a.name) AS name, a.kind, "
    "CASE WHEN v.id IS NULL THEN a.parent_id ELSE v.parent_id END AS parent_id, "
    "COALESCE(v.credit_limit, a.credit_limit) AS credit_limit, COALESCE(v.currency, a.currency) AS currency, "
    "a.timezone, a.batch_id FROM accounts a LEFT JOIN account_versions v ON v.id = "
    "(SELECT MAX(w.id) FROM account_versions w WHERE w.account_id = a.id)"
)
"""The view's statement as SQLite stores it; ``verify`` compares the stored text with it."""



def exact_text_on_mysql() -> None:
    """Make every table compare its text exactly on MySQL/MariaDB (utf8mb4_bin), before they are created there.

    MariaDB compares text case-insensitively by default; keys and sorting must be exact,
    as elsewhere. Set when the tables are created on that dialect (setting a dialect's
    options loads the dialect: defining the tables for SQLite would pay for it).
    """
    for table in metadata.tables.values():
        table.dialect_options["mysql"]["charset"] = "utf8mb4"
        table.dialect_options["mysql"]["collate"] = "utf8mb4_bin"
