"""The append-only guards: the database itself refuses UPDATE, DELETE and replacement on the audit tables.

Each dialect gets its own DDL; an edit can then only happen behind the workbench's
back, and a hash chain detects it. Tables with a ``hash`` column carry their chain
in the rows (:mod:`vosbench.ledger.hashchain`); every other guarded table is chained
by a trigger that folds each inserted row into its ``chain_heads`` entry, so an
accounts, back-office, statement or decision row edited behind the guards no longer
hashes to its link in ``row_links`` (see :data:`~vosbench.ledger.hashchain.ROW_CHAINED_TABLES`).
On every dialect the link is sha256(previous head + the row's text), the text being that
dialect's own JSON of the row (:func:`~vosbench.ledger.hashchain.row_text_sql`), so
verification recomputes it on the same database.

Maker-checker is held here too (:func:`_threshold_rules` says which rows count): a BEFORE
INSERT trigger on ``payments`` refuses a row whose kind or amount is not as the ledger writes
them, and a person's unapproved entry at or above the approval threshold in force
(:mod:`vosbench.ledger.thresholds`; none in force: every entry, fail closed) unless a supervisor
approved the open request for exactly that entry; one on ``approval_thresholds`` refuses a
setting by anyone but a supervisor (on a server: the connected login) and a raise without a
reason, and on a server one on ``approval_requests`` binds a request's maker to the login
entering it, whatever client or SQL writes the row. On a server, every other person's row is bound
the same way, with the role its act needs (:func:`_person_rules`): a manual entry's operator, a
month's closer, an approval's checker, a finding's annotator, a matching decision, a shared view.
On every dialect a payment or charge dated into or before a closed month is refused the same way
(:func:`_closed_month_rules`), against the UTC instants each close records in ``month_spans``.

An account's currency is held as well (:func:`account_currency_guards`): a BEFORE INSERT trigger on
``account_versions`` refuses a version naming another currency for an account that holds payments,
charges or balances, which carry no currency of their own and would be read in the new one; and
:func:`currency_code_guards` refuse an account or version whose currency is no ISO 4217 currency of money.

The chain heads are held with their rows (:func:`chain_head_guards`: a journal row takes an id after its head, and
the head covers it) and, on a server, against the writers' role that must update them: a login other than the owner
moves a head only forward (:func:`head_forward_guards`).

:func:`expected_guards` is what ``verify`` compares the database's catalogue with
(:func:`present_guards`): a guard that is missing, whose text differs or that is disabled
is reported, and so is a trigger vosbench did not make on a guarded table.

Per dialect:

- SQLite: BEFORE UPDATE/DELETE triggers (on payments, charges and balances a DELETE passes
  only for ids inside a ``purged_ranges`` row: the retention purge of :mod:`vosbench.ledger.archive`,
  which ``verify`` checks against its archive's manifest), and a BEFORE INSERT trigger refusing a
  row any of whose keys is taken, since ``INSERT OR REPLACE`` deletes the old row without firing delete
  triggers; an AFTER INSERT trigger per row-chained table calling the link function the ledger's
  connections register. Writers are serialized by SQLite itself.
- PostgreSQL: one trigger function raising ``integrity_constraint_violation``, fired
  BEFORE UPDATE OR DELETE on every row and BEFORE TRUNCATE (upserts ``ON CONFLICT DO
  UPDATE`` fire the update trigger; the same purged-range exception for DELETE). The row
  chain: ``row_to_json`` of the row hashed by the built-in ``sha256`` in an AFTER INSERT
  row trigger, and a BEFORE INSERT statement trigger that locks the chain head before the
  statement's rows draw their ids from the sequence, so writers side by side link in id
  order and never fork a chain. Both run as the owner (``SECURITY DEFINER``): the auditor's
  role appends notes but may not move chain heads. ``verify`` reads ``pg_trigger`` through
  ``pg_get_triggerdef`` (a trigger disabled with ``ALTER TABLE … DISABLE TRIGGER`` counts as
  tampering) and the functions' bodies in ``pg_proc``.
- MariaDB/MySQL: BEFORE UPDATE and BEFORE DELETE triggers that SIGNAL (``REPLACE`` and
  ``ON DUPLICATE KEY UPDATE`` fire them; DELETE passes for purged ranges). TRUNCATE fires no
  trigger there: it needs the DROP privilege, which only the owner has. The row chain:
  ``JSON_ARRAY`` of the row through ``SHA2(…, 256)`` in an AFTER INSERT trigger, and a BEFORE
  INSERT trigger locking the chain head's row before the row takes its AUTO_INCREMENT id.
  Triggers run with their definer's (the owner's) rights. ``verify`` reads
  ``information_schema.TRIGGERS``; MariaDB has no way to disable a trigger, only to drop it.

On a server the three back-office tables keyed without an id (operators, managed accounts,
commission rates) have their links numbered by place in the chain, and verification matches
rows to links by content. The privileges given to the application's roles
(:mod:`vosbench.ledger.roles`) close the rest: the roles that write may only INSERT into these
tables and cannot drop what protects them; the owner can, and the chains and the comparison
of installed guards are what show it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vosbench.core import currencies
from vosbench.core.model import Kind
from vosbench.ledger import hashchain
from vosbench.ledger.database import StoreError
from vosbench.ledger.hashchain import CHAINED_TABLES, LINK_FUNCTION, ROW_CHAINED_TABLES
from vosbench.ledger.tables import APPEND_ONLY_TABLES, metadata

GUARDED_TABLES = (*APPEND_ONLY_TABLES, "row_links")
"""The audit tables and the links that chain those without a hash column."""

REFUSAL = "is append-only: record a correction instead of editing"
"""The words every dialect's refusal carries after the table's name."""


@dataclass(frozen=True)
class Guard:
    """One trigger (or trigger function) a guarded table must have: its name, table, the statement that
    makes it, and how the database's catalogue shows it intact where that is not the statement itself."""

    name: str
    table: str
    sql: str
    installed: str = ""

    @property
    def catalogued(self) -> str:
        """What :func:`present_guards` gives for this guard when it is as vosbench made it."""
        return self.installed or self.sql


_PURGEABLE = ", ".join(f"'{name}'" for name in CHAINED_TABLES)
_PG_ROW_TEXT = hashchain.row_text_sql("postgresql", metadata.tables["accounts"], "NEW.")
"""``row_to_json(NEW)::text``: PostgreSQL's text is of the whole row, so one function serves every table."""

_POSTGRESQL_FUNCTIONS = {
    # the journal's one deletion: a retention purge, of rows inside a range recorded with its archive
    "vosbench_append_only": (
        "BEGIN "
        f"IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ({_PURGEABLE}) THEN "
        "IF EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = TG_TABLE_NAME "
        "AND OLD.id BETWEEN first_id AND last_id) THEN RETURN OLD; END IF; "
        "END IF; "
        f"RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {REFUSAL}', "
        "ERRCODE = 'integrity_constraint_violation'; "
        "END "),
    # before a statement's rows take their ids: concurrent writers then link in id order
    "vosbench_chain_lock": (
        "BEGIN UPDATE chain_heads SET row_count = row_count WHERE name = TG_TABLE_NAME; RETURN NULL; END "),
    "vosbench_chain_row": (
        "BEGIN "
        "UPDATE chain_heads SET head_hash = encode(sha256(convert_to(head_hash || "
        f"{_PG_ROW_TEXT}, 'UTF8')), 'hex'), "
        "row_count = row_count + 1, last_id = COALESCE((to_jsonb(NEW) ->> 'id')::integer, row_count + 1) "
        "WHERE name = TG_TABLE_NAME; "
        "INSERT INTO row_links (table_name, row_id, hash) "
        "SELECT name, last_id, head_hash FROM chain_heads WHERE name = TG_TABLE_NAME; "
        "RETURN NULL; END "),
}
"""The trigger functions' bodies, as ``pg_proc.prosrc`` holds them."""

_DEFINER = {"vosbench_chain_lock", "vosbench_chain_row", "vosbench_threshold_entry", "vosbench_threshold_setter",
            "vosbench_threshold_maker", "vosbench_account_currency", "vosbench_person_close", "vosbench_person_decision",
            "vosbench_person_annotation", "vosbench_person_match", "vosbench_person_view", "vosbench_settings", "vosbench_person_account",
            "vosbench_person_account_version", "vosbench_closed_charge", "vosbench_closed_balance", "vosbench_month_span",
            "vosbench_person_close_request", "vosbench_owner_archive", "vosbench_owner_purged_range", "vosbench_owner_operator",
            "vosbench_chain_heads", *(f"vosbench_within_chain_{table}" for table in CHAINED_TABLES)}
"""Functions that run as the ledger's owner: the auditor's role appends rows but may not move chain heads, the
threshold checks read the tables they name (search path pinned) whatever a login puts in its own temporary schema,
and the owner's test (``session_user = current_user``) holds in them for the owner's session alone."""


def _postgresql_function(name: str, body: str) -> Guard:
    security = " SECURITY DEFINER SET search_path = public, pg_temp" if name in _DEFINER else ""
    return Guard(name, "", f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql{security} "
                           f"AS $${body}$$", installed=body)


def unique_keys(table: sa.Table) -> list[tuple[str, ...]]:
    """Every set of columns that identifies a row of ``table``: the primary key and each unique key."""
    unique = {tuple(column.name for column in constraint.columns) for constraint in table.constraints
              if isinstance(constraint, sa.UniqueConstraint)}
    unique |= {(column.name,) for column in table.columns if column.unique}
    # sorted: table.constraints is a set, and the guard's text must be the same in every process
    return list(dict.fromkeys([tuple(column.name for column in table.primary_key.columns), *sorted(unique)]))


def _sqlite_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    refuse = f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: record a correction instead of editing'); END"
    # INSERT OR REPLACE deletes the old row without firing delete triggers: refuse every key it could use.
    taken = " OR ".join(
        f"EXISTS (SELECT 1 FROM {name} WHERE " + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")"
        for key in unique_keys(table))
    # The journal's one deletion: a retention purge, of rows inside a range recorded with its archive.
    purged = (f" WHEN NOT EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = '{name}' "
              "AND OLD.id BETWEEN first_id AND last_id)" if name in CHAINED_TABLES else "")
    guards = [
        Guard(f"{name}_no_update", name, f"CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {name} {refuse}"),
        Guard(f"{name}_no_delete", name, f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name}{purged} {refuse}"),
        Guard(f"{name}_no_replace", name,
              f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} WHEN {taken} {refuse}"),
    ]
    if name in ROW_CHAINED_TABLES:
        guards.append(Guard(
            f"{name}_chain", name,
            f"CREATE TRIGGER {name}_chain AFTER INSERT ON {name} BEGIN UPDATE chain_heads SET "
            f"head_hash = {LINK_FUNCTION}(head_hash, {hashchain.row_text_sql('sqlite', table, 'NEW.')}), "
            f"row_count = row_count + 1, last_id = NEW.rowid WHERE name = '{name}'; "
            f"INSERT INTO row_links (table_name, row_id, hash) "
            f"SELECT name, NEW.rowid, head_hash FROM chain_heads WHERE name = '{name}'; END"))
    return guards


def _postgresql_guards(table: sa.Table) -> list[Guard]:
    name = table.name

    def trigger(suffix: str, when: str, function: str) -> Guard:
        # as pg_get_triggerdef shows it (schema left out), so that the catalogue can be compared with it
        shown = f"CREATE TRIGGER {name}_{suffix} {when} ON {name} {function}"
        return Guard(f"{name}_{suffix}", name, shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1), shown)

    guards = [
        trigger("no_change", "BEFORE DELETE OR UPDATE", "FOR EACH ROW EXECUTE FUNCTION vosbench_append_only()"),
        trigger("no_truncate", "BEFORE TRUNCATE", "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_append_only()"),
    ]
    if name in ROW_CHAINED_TABLES:
        guards += [
            trigger("chain_lock", "BEFORE INSERT", "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_chain_lock()"),
            trigger("chain", "AFTER INSERT", "FOR EACH ROW EXECUTE FUNCTION vosbench_chain_row()"),
        ]
    return guards


def _mysql_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{name} {REFUSAL}'"
    delete = refuse
    if name in CHAINED_TABLES:  # the journal's one deletion, as on SQLite: a recorded retention purge
        delete = (f"BEGIN IF NOT EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = '{name}' "
                  f"AND OLD.id BETWEEN first_id AND last_id) THEN {refuse}; END IF; END")

    def trigger(suffix: str, when: str, body: str) -> Guard:
        # as information_schema.TRIGGERS gives it back (see present_guards)
        return Guard(f"{name}_{suffix}", name, f"CREATE TRIGGER {name}_{suffix} {when} ON {name} FOR EACH ROW {body}")

    guards = [trigger("no_update", "BEFORE UPDATE", refuse), trigger("no_delete", "BEFORE DELETE", delete)]
    if name in ROW_CHAINED_TABLES:
        text = hashchain.row_text_sql("mysql", table, "NEW.")
        # MySQL assigns left to right: row_count is already the new one where last_id reads it
        row_id = "NEW.id" if hashchain.row_key("mysql", table) else "row_count"
        guards += [
            # before the row takes its AUTO_INCREMENT id: concurrent writers then link in id order
            trigger("chain_lock", "BEFORE INSERT", f"UPDATE chain_heads SET row_count = row_count WHERE name = '{name}'"),
            trigger("chain", "AFTER INSERT",
                    f"BEGIN UPDATE chain_heads SET head_hash = SHA2(CONVERT(CONCAT(head_hash, {text}) USING utf8mb4), "
                    f"256), row_count = row_count + 1, last_id = {row_id} WHERE name = '{name}'; "
                    "INSERT INTO row_links (table_name, row_id, hash) "
                    f"SELECT name, last_id, head_hash FROM chain_heads WHERE name = '{name}'; END"),
        ]
    return guards


_GUARDS = {"sqlite": _sqlite_guards, "postgresql": _postgresql_guards, "mysql": _mysql_guards,
           "mariadb": _mysql_guards}

# --- approval thresholds: the database's own maker-checker (see vosbench.ledger.thresholds) ----------------

MANUAL_SOURCE = "vosbench"
"""The source of every entry made through vosbench's manual door (:mod:`vosbench.ledger.manual_entry`)."""

MAKER_ROLES = ("clerk", "supervisor", "operator")
"""The roles whose logins' rows a server counts as persons' entries (:data:`vosbench.ledger.identity.MAKERS`)."""
CHECKER_ROLES = ("supervisor",)
"""The roles that approve or reject someone else's entry (:data:`vosbench.ledger.identity.CHECKERS`)."""
ANNOTATOR_ROLES = ("auditor", "supervisor")
"""The roles that annotate a finding (:data:`vosbench.ledger.identity.ANNOTATORS`)."""

THRESHOLD_REFUSAL = ("payments: an unapproved manual entry at or above the approval threshold in force is refused; "
                     "enter it with vosbench record and a supervisor approves it")
SETTER_REFUSAL = "approval_thresholds: only a supervisor sets an approval threshold, under their own login"
MAKER_REFUSAL = "approval_requests: the maker of a request is the login that enters it"

_LOGIN = {"postgresql": "session_user", "mysql": "SUBSTRING_INDEX(USER(), '@', 1)"}
"""The connected login inside a trigger: PostgreSQL's session user (not the definer the function runs as), and
MariaDB's client (``USER()``; ``CURRENT_USER()`` is the trigger's definer)."""

_OWNER = {"postgresql": "session_user = current_user",
          "mysql": "SUBSTRING_INDEX(USER(), '@', 1) = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"}
"""True when the connected login is the ledger's owner: the definer the threshold checks run as."""

_THRESHOLD_IN_FORCE = (
    "(SELECT t.amount FROM approval_thresholds t WHERE t.kind = NEW.kind AND t.currency = COALESCE("
    "(SELECT v.currency FROM account_versions v WHERE v.account_id = NEW.account_id ORDER BY v.id DESC LIMIT 1), "
    "(SELECT a.currency FROM accounts a WHERE a.id = NEW.account_id)) ORDER BY t.id DESC LIMIT 1)")
"""The newest threshold of the new record's kind in its account's current currency (NULL: none)."""

NO_THRESHOLD = 0
"""The threshold of a (currency, kind) that has none set: every person's entry waits (fail closed)."""

SHAPE_REFUSAL = ("payments: the kind of a record is one of " + ", ".join(kind.value for kind in Kind)
                 + " exactly and its amount a whole number of minor units; write it through vosbench")
REASON_REFUSAL = ("approval_thresholds: raising an approval threshold (or setting the first of a currency and kind) "
                  "needs a reason")

REQUEST_KEY = "approval-request-"
"""The source key an approved request's payment carries after this prefix: the request's id. A request's
approval thereby covers one payment, once (the key is unique within the source)."""


def request_key(request_id: int) -> str:
    """The source key of the payment that posts approval request ``request_id`` (see :data:`REQUEST_KEY`)."""
    return f"{REQUEST_KEY}{int(request_id)}"


def _open_request(server: bool) -> str:
    """An approval request still open for exactly the new record: posted under that request's key, by the
    request's maker, to its account, of its kind and amount (and reversing what it reverses)."""
    key = f"CONCAT('{REQUEST_KEY}', r.id)" if server else f"'{REQUEST_KEY}' || r.id"
    return ("EXISTS (SELECT 1 FROM approval_requests r WHERE "
            f"NEW.source = '{MANUAL_SOURCE}' AND NEW.source_key = {key} AND r.maker = NEW.operator "
            "AND r.account = (SELECT a.account FROM accounts a WHERE a.id = NEW.account_id) "
            "AND r.kind = NEW.kind AND r.amount = NEW.amount "
            "AND (r.reverses_id = NEW.reverses_id OR r.reverses_id IS NULL AND NEW.reverses_id IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM approval_decisions d WHERE d.request_id = r.id))")


def _is_supervisor(login: str) -> str:
    return f"EXISTS (SELECT 1 FROM operators o WHERE o.login = {login} AND o.role = 'supervisor')"


_MISSHAPEN = {
    # each kind compared in turn: SQLite builds a table for an IN list on every row (a bulk import: ~13% more CPU)
    "sqlite": "{differs} OR typeof(NEW.amount) <> 'integer'",
    "postgresql": "NEW.kind NOT IN ({kinds})",  # amount is a BIGINT there: the server makes any value one or refuses it
    "mysql": "CAST(NEW.kind AS BINARY) NOT IN ({kinds})",  # the column's collation ignores case and trailing spaces
}
"""A payments row the ledger never writes: a kind not spelt exactly as one of :class:`Kind`, or on SQLite an amount
that is not an integer (text or a blob the column cannot read as a number is kept as it is, and compares as none)."""

_BLANK_REASON = {"sqlite": "TRIM(NEW.reason, char(32, 9, 10, 13)) = ''", "postgresql": "NEW.reason !~ '[^[:space:]]'",
                 "mysql": "NEW.reason NOT REGEXP '[^[:space:]]'"}
"""A setting's reason that is empty or only white space."""


def _threshold_rules(dialect: str) -> list[tuple[str, str, str]]:
    """The threshold guards' rules on ``dialect``, each (table, SQL condition of a refused row, refusal): a
    misshapen or unapproved entry, a setting by the wrong person or raising without a reason and, on a
    server, a request entered under another's name.

    A person's entry is a record through vosbench's manual door (source ``vosbench``) and, on a
    server, any record a login registered to enter records (:data:`MAKER_ROLES`) inserts, whatever
    source it claims; imports and syncs of history from other sources by the owner or a service
    login are not. The channel is no part of it: a person's client names any channel it likes.

    It is refused at or above the threshold in force unless approved, and a currency and kind
    with no threshold holds every person's entry (:data:`NO_THRESHOLD`: fail closed). The
    approval is that of a registered supervisor other than its maker, and on a server the login
    inserting it (the checker posts), of a request still open for exactly that entry
    (:func:`_open_request`: one request covers one entry, once), whose maker, on a server, is the
    login that entered the request: a supervisor alone cannot post under a clerk's name. Whoever
    writes a payments row, its kind and amount are as the ledger writes them, so the comparison
    cannot be dodged. A threshold is set by a registered supervisor (on a server: the connected
    one), or by the installer for a pair that has none yet (the controls file's seed); one above
    the pair's threshold in force (none counting as zero) needs a reason. A server's owner is held
    by none of these but the row's shape: it may change the schema, triggers included, anyway, and
    a copy runs as it.
    """
    server = "mysql" if dialect == "mariadb" else dialect
    login, owner = _LOGIN.get(server), _OWNER.get(server)
    approved = (f"NEW.approved_by <> '' AND NEW.approved_by <> NEW.operator AND {_is_supervisor('NEW.approved_by')}"
                + (f" AND NEW.approved_by = {login}" if login else "") + f" AND {_open_request(bool(login))}")
    person = f"NEW.source = '{MANUAL_SOURCE}'"
    if login:
        roles = ", ".join(f"'{role}'" for role in MAKER_ROLES)
        person = f"({person} OR EXISTS (SELECT 1 FROM operators o WHERE o.login = {login} AND o.role IN ({roles})))"
    refused_entry = (f"{person} AND NOT ({approved}) AND ABS(NEW.amount) >= "
                     f"COALESCE({_THRESHOLD_IN_FORCE}, {NO_THRESHOLD})")
    # the controls file's seed: on a server only the owner plants it (`server init`), who needs no rule
    installer = "FALSE" if login else ("NEW.set_by = 'installer' AND NOT EXISTS (SELECT 1 FROM approval_thresholds t "
                                       "WHERE t.currency = NEW.currency AND t.kind = NEW.kind)")
    supervisor = _is_supervisor("NEW.set_by") + (f" AND NEW.set_by = {login}" if login else "")
    unexplained_raise = (f"{_BLANK_REASON[server]} AND NEW.amount > COALESCE((SELECT t.amount FROM approval_thresholds "
                         "t WHERE t.currency = NEW.currency AND t.kind = NEW.kind ORDER BY t.id DESC LIMIT 1), "
                         f"{NO_THRESHOLD})")
    not_owner = f"NOT ({owner}) AND " if owner else ""
    rules = [
        ("payments", _MISSHAPEN[server].format(kinds=", ".join(f"'{kind.value}'" for kind in Kind),
                                               differs=" AND ".join(f"NEW.kind <> '{kind.value}'" for kind in Kind)),
         SHAPE_REFUSAL),
        ("payments", not_owner + refused_entry, THRESHOLD_REFUSAL),
        ("approval_thresholds", f"NOT ({owner + ' OR ' if owner else ''}{supervisor} OR {installer})", SETTER_REFUSAL),
        ("approval_thresholds", not_owner + unexplained_raise, REASON_REFUSAL),
    ]
    if login:
        rules.append(("approval_requests", f"{not_owner}NEW.maker <> {login}", MAKER_REFUSAL))
    return (rules + _dating_rules(server, not_owner) + _person_rules(server, not_owner)
            + _closed_month_rules(server, not_owner) + _owner_only_rules(server))


OWNER_ONLY_REFUSALS = {
    "archives": ("archives: only the owner of the ledger records an archive, with the purge it makes (vosbench archive, "
                 "connected as the owner)"),
    "purged_ranges": ("purged_ranges: only the owner of the ledger records a purged range, with the purge of its archive "
                      "(vosbench archive, connected as the owner)"),
    "operators": ("operators: only the owner of the ledger registers an operator (vosbench operators add LOGIN --role "
                  "ROLE, connected as the owner)"),
}
"""What a server says to a login other than its owner writing a table only the owner writes."""


def _owner_only_rules(server: str) -> list[tuple[str, str, str]]:
    """On a server, the rules keeping ``archives``, ``purged_ranges`` and ``operators`` to the owner: a purged range is
    what lets the journal's delete guards pass a DELETE, and an archive what ``verify`` steps over the gap with, so a
    login adding either (a writer's role may INSERT into the ledger's tables) would be preparing a deletion or a false
    archive; an operator's role is what every person's guard reads, so a clerk registering one could make a supervisor
    (or a reseller of the owner). None on SQLite, whose file's holder can change anything anyway."""
    owner = _OWNER.get(server)
    return [] if owner is None else [(table, f"NOT ({owner})", refusal) for table, refusal in OWNER_ONLY_REFUSALS.items()]


DATING_REFUSAL = ("payments: a record is recorded now, by the clock of the database, and dated no later than "
                  "that; check the clock of this machine and the time zone its times are given in")
REQUEST_DATING_REFUSAL = ("approval_requests: a request is entered now, by the clock of the database; check the "
                          "clock of this machine")

_NOW_UTC = {"postgresql": "(clock_timestamp() AT TIME ZONE 'UTC')", "mysql": "UTC_TIMESTAMP(6)"}
"""The server's clock as naive UTC, at the row's insert (PostgreSQL's now() would be its transaction's start)."""
_SKEW = {"postgresql": "interval '5 minutes'", "mysql": "INTERVAL 5 MINUTE"}
"""The clocks' allowed skew, :data:`vosbench.ledger.write_door.CLOCK_SKEW`, in each server's SQL."""


def _dating_rules(server: str, not_owner: str) -> list[tuple[str, str, str]]:
    """On a server, the rules that keep a login from choosing when its rows were written (none on SQLite,
    whose file's holder can change anything anyway): a record's ``recorded_at`` and a request's
    ``requested_at`` within the clocks' skew of the server's clock, and a record dated no later than it is
    recorded. The audit's dating checks measure back-dating from these times, so they must be the
    database's, not whatever a login's own client writes. The owner (a copy, the demo's fixed
    times) is held by none of them."""
    if server not in _NOW_UTC:
        return []
    now, skew = _NOW_UTC[server], _SKEW[server]

    def off_clock(column: str) -> str:
        return f"NEW.{column} NOT BETWEEN {now} - {skew} AND {now} + {skew}"

    return [("payments", f"{not_owner}(NEW.occurred_at > NEW.recorded_at + {skew} OR {off_clock('recorded_at')})",
             DATING_REFUSAL),
            ("approval_requests", not_owner + off_clock("requested_at"), REQUEST_DATING_REFUSAL)]


CLOSED_MONTH_REFUSALS = {
    "payments": ("payments: a record dated into or before a closed month is refused; record it in an open month with a "
                 "reference to the original, or have the month reopened (vosbench reopen)"),
    "charges": ("charges: a day of or before a closed month takes no more charges; have the month reopened "
                "(vosbench reopen) to record them"),
    "balance_snapshots": ("balance_snapshots: a balance reported as of a closed month (or before one) is refused; have "
                          "the month reopened (vosbench reopen) to record it"),
    "month_spans": ("month_spans: a month span is recorded with the close of its month, for that close alone, "
                    "starting before it ends"),
}
"""What the database says to a record dated into a closed month (see :func:`_closed_month_rules`)."""

NOT_A_TIME_REFUSALS = {
    "payments": "payments: occurred_at is no time; give it as YYYY-MM-DD HH:MM:SS.ffffff (UTC)",
    "balance_snapshots": "balance_snapshots: as_of is no time; give it as YYYY-MM-DD HH:MM:SS.ffffff (UTC)",
    "charges": "charges: day is no calendar day; give it as YYYY-MM-DD",
}
"""What SQLite says to a record whose date is no date: it would be compared as text with the closed months' instants
(and pass them), where a server's column refuses it itself (see :func:`_closed_month_rules`)."""

_DAY_MONTH = {"sqlite": "substr(NEW.day, 1, 7)", "postgresql": "to_char(NEW.day, 'YYYY-MM')", "mysql": "LEFT(NEW.day, 7)"}
"""The YYYY-MM of a charges row's day (a calendar day of the ledger's zone, so its month is the ledger's)."""

def _sqlite_instant(column: str) -> str:
    """A time column of the new row as the spans are written: SQLite compares text, so a time a raw client writes in
    another form (``T``, no fraction, a ``Z`` or an offset) is first put in the ledger's own."""
    value = f"NEW.{column}"
    return (f"(CASE WHEN length({value}) = 26 AND substr({value}, 11, 1) = ' ' THEN {value} "
            f"ELSE strftime('%Y-%m-%d %H:%M:%f', {value}) || '000' END)")


def _sqlite_no_time(column: str) -> str:
    """True when a time column of the new row is no time (SQLite's columns take any text): not text (a number would
    be read as a Julian day), not read by SQLite as a time, or of the ledger's form but read as another time (a 13th
    month, a 30 February). Compared as text with the spans, it would pass them."""
    value = f"NEW.{column}"
    return (f"(typeof({value}) <> 'text' OR CASE WHEN length({value}) = 26 AND substr({value}, 11, 1) = ' ' "
            f"THEN strftime('%Y-%m-%d %H:%M:%S', substr({value}, 1, 19), '+0 days') IS NOT substr({value}, 1, 19) "
            f"OR substr({value}, 20) NOT GLOB '.[0-9][0-9][0-9][0-9][0-9][0-9]' "
            f"ELSE strftime('%Y-%m-%d %H:%M:%f', {value}) IS NULL END)")


_INSTANTS = {"payments": "occurred_at", "balance_snapshots": "as_of"}
"""The time each timed record is dated by, compared with the closed months' spans."""


def _latest_close_event(month: str) -> str:
    """The id of the latest close or reopen of ``month`` (SQL), the event that says whether it is closed now."""
    return f"(SELECT MAX(e.id) FROM month_closes e WHERE e.month = {month})"


def _closed_month_rules(server: str, not_owner: str) -> list[tuple[str, str, str]]:
    """The rules refusing a row dated into or before a closed month, whoever sends it: a payment (or a reported
    balance) whose instant lies before the end of a ``month_spans`` of a month whose latest event is its close (a
    reopen lifts it), and a charges row whose day lies in or before such a month; and a span for anything but the
    latest event of its month, a close, or one ending before it starts. "Before" too, as the write door refuses: a
    record in an earlier month, even one that never closed (it held no records then), would change the closed
    month's opening balances. On SQLite, whose columns take any text, a date that is no date is refused first: it
    would be compared as text and pass.

    The write door refuses the same rows with its line; these hold a login's own client and psql, and anyone
    holding an SQLite file without lifting triggers.
    The month's cut depends on the ledger's time zone, which a trigger cannot apply on every dialect: the close
    records the month's UTC instants (:func:`vosbench.ledger.month_close.close`), and the guard compares with them
    (an indexed lookup in a table of one row per close). On a server the owner, who copies ledgers, is held by none.
    """
    rules = []
    for table, column in _INSTANTS.items():
        instant = _sqlite_instant(column) if server == "sqlite" else f"NEW.{column}"
        if server == "sqlite":
            rules.append((table, _sqlite_no_time(column), NOT_A_TIME_REFUSALS[table]))
        rules.append((table, not_owner + f"EXISTS (SELECT 1 FROM month_spans s WHERE s.ends_at > {instant} "
                                         f"AND s.close_id = {_latest_close_event('s.month')})",
                      CLOSED_MONTH_REFUSALS[table]))
    if server == "sqlite":
        rules.append(("charges", "typeof(NEW.day) <> 'text' OR date(NEW.day, '+0 days') IS NOT NEW.day", NOT_A_TIME_REFUSALS["charges"]))
    day_closed = (f"EXISTS (SELECT 1 FROM month_closes c WHERE c.month >= {_DAY_MONTH[server]} AND c.action = 'close' "
                  f"AND c.id = {_latest_close_event('c.month')})")
    stray_span = ("NOT EXISTS (SELECT 1 FROM month_closes c WHERE c.id = NEW.close_id AND c.month = NEW.month "
                  f"AND c.action = 'close' AND c.id = {_latest_close_event('NEW.month')}) "
                  "OR NEW.starts_at >= NEW.ends_at")
    return [*rules, ("charges", not_owner + day_closed, CLOSED_MONTH_REFUSALS["charges"]),
            ("month_spans", not_owner + f"({stray_span})", CLOSED_MONTH_REFUSALS["month_spans"])]


def _has_role(login: str, roles: tuple[str, ...]) -> str:
    return f"EXISTS (SELECT 1 FROM operators o WHERE o.login = {login} AND o.role IN ({', '.join(map(repr, roles))}))"


PERSON_REFUSALS = {
    "payments": "payments: a manual entry is made under the login that enters it (or posted by its approving supervisor)",
    "month_closes": ("month_closes: a month is closed or reopened as a registered supervisor requested it, "
                     "confirmed by another registered operator under their own login"),
    "close_requests": ("close_requests: a close or reopen of a month is requested by a registered supervisor under "
                       "their own login, and withdrawn, while it waits, by the login that requested it (or the owner)"),
    "approval_decisions": "approval_decisions: a request is decided by a registered supervisor under their own login",
    "finding_annotations": ("finding_annotations: a finding is annotated by a registered auditor or supervisor under "
                            "their own login"),
    "match_decisions": "match_decisions: a matching decision is made under the login that makes it",
    "saved_views": "saved_views: a view is shared under the login that shares it",
    "accounts": "accounts: a clerk does not add accounts; a supervisor, or the owner and its syncs, do",
    "account_versions": ("account_versions: a clerk does not change an account (its parent, limit or currency); "
                         "a supervisor, or the owner and its syncs, do"),
}
"""What the database says when a login writes a person's row under another person's name (see :func:`_person_rules`)."""


def _requested_close() -> str:
    """A month_closes row that confirms the request waiting in its month: the month's latest request is its
    closer's, of its action (and reason), and the month's state allows it (a close of an open month, a reopen of a
    closed one), so a request is confirmed once."""
    return (f"EXISTS (SELECT 1 FROM close_requests r WHERE r.id = {_latest_request('NEW.month')} "
            "AND r.requested_by = NEW.closed_by AND r.action = NEW.action "
            "AND r.reason = NEW.reason) AND COALESCE((SELECT e.action FROM month_closes e WHERE e.id = "
            f"{_latest_close_event('NEW.month')}), 'reopen') <> NEW.action")


WITHDRAW = "withdraw"
"""The action of a ``close_requests`` row withdrawing the request waiting in its month (:func:`_withdrawable`)."""


def _latest_request(month: str) -> str:
    """The month's latest close request (SQL): the one that waits, if the month's state allows it."""
    return f"(SELECT MAX(q.id) FROM close_requests q WHERE q.month = {month})"


def _withdrawable(login: str) -> str:
    """A withdrawal by ``login`` of the request waiting in the new row's month: the month's latest request is
    ``login``'s close or reopen, and the month's state still allows it (not confirmed, not already withdrawn)."""
    return (f"EXISTS (SELECT 1 FROM close_requests r WHERE r.id = {_latest_request('NEW.month')} "
            f"AND r.requested_by = {login} AND r.action IN ('close', 'reopen') AND COALESCE((SELECT e.action FROM "
            f"month_closes e WHERE e.id = {_latest_close_event('NEW.month')}), 'reopen') <> r.action)")


def _person_rules(server: str, not_owner: str) -> list[tuple[str, str, str]]:
    """On a server, the rules binding every person's row to the login that inserts it, with the role its act needs
    (the same as :mod:`vosbench.ledger.identity` checks in the client): a manual entry's operator (or, for an
    approved one, its approving supervisor), a month's close or reopen (written by the second person's login,
    confirming the request its supervisor made under theirs: :func:`_requested_close`) and that request, an
    approval's checker, a finding's annotator, a matching decision's maker, a shared view's author; and no clerk
    adds or changes an account (its parent decides whose subtree a reseller sees, its limit what it may owe).
    Without them a login holding the writers' database role could send, from its own client or psql, a row naming
    anyone: close a month in two supervisors' names, reject a
    request or explain a finding as someone else. The owner (a copy, the demo) is held by none of them."""
    login = _LOGIN.get(server)
    if login is None:
        return []
    return [(table, not_owner + condition, PERSON_REFUSALS[table]) for table, condition in (
        ("payments", f"NEW.source = '{MANUAL_SOURCE}' AND NEW.operator <> {login} AND NEW.approved_by <> {login}"),
        ("month_closes", f"NOT (NEW.second = {login} AND NEW.closed_by <> {login} AND {_is_supervisor('NEW.closed_by')} "
                         f"AND EXISTS (SELECT 1 FROM operators o WHERE o.login = {login}) AND {_requested_close()})"),
        ("close_requests", f"NOT (NEW.requested_by = {login} AND (NEW.action IN ('close', 'reopen') AND "
                           f"{_is_supervisor(login)} OR NEW.action = '{WITHDRAW}' AND {_withdrawable(login)}))"),
        ("approval_decisions", f"NOT (NEW.checker = {login} AND {_has_role(login, CHECKER_ROLES)})"),
        ("finding_annotations", f"NOT (NEW.author = {login} AND {_has_role(login, ANNOTATOR_ROLES)})"),
        ("match_decisions", f"NEW.decided_by <> {login}"),
        ("saved_views", f"NEW.saved_by <> {login}"),
        # the accounts decide whose subtree a reseller sees and what an account may owe: not a clerk's to move
        ("accounts", _has_role(login, ("clerk",))),
        ("account_versions", _has_role(login, ("clerk",))),
    )]


_THRESHOLD_TRIGGERS = {"payments": ("payments_threshold", "vosbench_threshold_entry"),
                       "approval_thresholds": ("approval_thresholds_setter", "vosbench_threshold_setter"),
                       "approval_requests": ("approval_requests_maker", "vosbench_threshold_maker"),
                       "month_closes": ("month_closes_person", "vosbench_person_close"),
                       "close_requests": ("close_requests_person", "vosbench_person_close_request"),
                       "approval_decisions": ("approval_decisions_person", "vosbench_person_decision"),
                       "finding_annotations": ("finding_annotations_person", "vosbench_person_annotation"),
                       "match_decisions": ("match_decisions_person", "vosbench_person_match"),
                       "saved_views": ("saved_views_person", "vosbench_person_view"),
                       "accounts": ("accounts_person", "vosbench_person_account"),
                       "account_versions": ("account_versions_person", "vosbench_person_account_version"),
                       "charges": ("charges_closed_month", "vosbench_closed_charge"),
                       "balance_snapshots": ("balance_snapshots_closed_month", "vosbench_closed_balance"),
                       "month_spans": ("month_spans_close", "vosbench_month_span"),
                       "archives": ("archives_owner", "vosbench_owner_archive"),
                       "purged_ranges": ("purged_ranges_owner", "vosbench_owner_purged_range"),
                       "operators": ("operators_owner", "vosbench_owner_operator")}
"""The trigger (and on PostgreSQL its function) holding each table's threshold rules."""


def threshold_guards(dialect: str) -> list[Guard]:
    """The triggers refusing, on ``dialect``, a payments row of a kind or amount the ledger never writes, a
    person's unapproved entry at or above its threshold, a threshold set by anyone but a supervisor or
    raised without a reason and, on a server, a request entered under another's name and a row a login
    dates off the server's clock (the rules of :func:`_threshold_rules` and :func:`_dating_rules`, one
    trigger per table); on PostgreSQL each with its function."""
    rules = _threshold_rules(dialect)
    guards = []
    for table, (name, function) in _THRESHOLD_TRIGGERS.items():
        checks = [(condition, refusal) for ruled, condition, refusal in rules if ruled == table]
        if not checks:
            continue
        if dialect == "sqlite":
            body = " ".join(f"SELECT RAISE(ABORT, '{refusal}') WHERE {condition};" for condition, refusal in checks)
            guards.append(Guard(name, table, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} BEGIN {body} END"))
        elif dialect == "postgresql":
            guards.append(_postgresql_function(function, "BEGIN " + "".join(
                f"IF {condition} THEN RAISE EXCEPTION USING MESSAGE = '{refusal}', "
                "ERRCODE = 'integrity_constraint_violation'; END IF; " for condition, refusal in checks)
                + "RETURN NEW; END "))
            shown = f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
            guards.append(Guard(name, table, shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1), shown))
        else:
            body = " ".join(f"IF {condition} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refusal}'; END IF;"
                            for condition, refusal in checks)
            guards.append(Guard(name, table, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                                             f"BEGIN {body} END"))
    return guards


# --- an account's currency: fixed once the account holds money (see write_door._currency_problem) ----------

MONEY_TABLES = ("payments", "charges", "balance_snapshots")
"""The tables whose amounts carry no currency of their own: each row is read in its account's currency."""

CURRENCY_REFUSAL = ("account_versions: an account holding payments, charges or balances keeps its currency "
                    "(they would be read in the new one); open a new account for the other currency")

_CURRENCY_CHANGE = (
    "NEW.currency <> COALESCE((SELECT v.currency FROM account_versions v WHERE v.account_id = NEW.account_id "
    "ORDER BY v.id DESC LIMIT 1), (SELECT a.currency FROM accounts a WHERE a.id = NEW.account_id)) AND ("
    + " OR ".join(f"EXISTS (SELECT 1 FROM {table} r WHERE r.account_id = NEW.account_id)" for table in MONEY_TABLES)
    + ")")
"""A new version of an account naming another currency than its current one, while the account holds money."""


def account_currency_guards(dialect: str) -> list[Guard]:
    """The trigger refusing, on ``dialect``, a version that changes the currency of an account holding money
    (on PostgreSQL with its function, run as the owner so that no login's own tables can hide the account's rows).

    Records carry no currency: a USD account's deposits relabelled EUR would be added to EUR ones. Every
    change of an account is a new ``account_versions`` row (``accounts`` itself refuses UPDATE), so the
    guard sits there, whatever client or SQL writes the row; an account with no money yet may still change.
    """
    return _refusing_insert(dialect, "account_versions", "account_versions_currency", "vosbench_account_currency",
                            _CURRENCY_CHANGE, CURRENCY_REFUSAL)


def _refusing_insert(dialect: str, table: str, name: str, function: str, refused: str, refusal: str,
                     errcode: str = "integrity_constraint_violation") -> list[Guard]:
    """The BEFORE INSERT trigger ``name`` on ``table`` refusing, on ``dialect``, each row for which the SQL condition
    ``refused`` holds, in the words of ``refusal`` (on PostgreSQL with its ``function``, raising ``errcode``)."""
    if dialect == "sqlite":
        return [Guard(name, table, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {refused} "
                                   f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END")]
    if dialect == "postgresql":
        shown = f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        return [_postgresql_function(function, (f"BEGIN IF {refused} THEN RAISE EXCEPTION USING MESSAGE = '{refusal}', "
                                                f"ERRCODE = '{errcode}'; END IF; RETURN NEW; END ")),
                Guard(name, table, shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1), shown)]
    return [Guard(name, table, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW IF {refused} THEN "
                               f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refusal}'; END IF")]


# --- an account's currency: a currency of money (see write_door._new_accounts) ------------------------------

CODE_REFUSAL = ("currency is no ISO 4217 currency of money (metals, test, fund and unit-of-account codes are not): "
                "its money would be totalled, and approved, in no currency; give one such as USD")
_NO_CURRENCY = f"NEW.currency NOT IN ({', '.join(repr(code) for code in sorted(currencies.DECIMALS))})"
"""An account, or a version of one, naming a code that is no currency of money."""


def currency_code_guards(dialect: str) -> list[Guard]:
    """The triggers refusing, on ``dialect``, an account or account version whose currency is no ISO 4217 currency
    of money (on PostgreSQL with their functions): the write door refuses the same row with its line."""
    return [guard for table in ("accounts", "account_versions")
            for guard in _refusing_insert(dialect, table, f"{table}_currency_code", f"vosbench_{table}_currency_code",
                                          _NO_CURRENCY, f"{table}: {CODE_REFUSAL}")]


# --- the hash chains' heads: every record carries its table's head (see hashchain.ChainHead) --------------------

CHAIN_ID_REFUSAL = ("{table}: a record takes an id after its chain head (the write door gives it the next one); "
                    "write it through vosbench")
CHAIN_COVER_REFUSAL = ("{table}: a record is linked into its chain head in the transaction that writes it, as the write "
                       "door does; one the head does not cover would take the id of the next record written, and stop "
                       "every later write: write it through vosbench")
"""What the database says to a row of a hash-chained table written beside the chain head (see :func:`chain_head_guards`)."""


def chain_head_guards(dialect: str) -> list[Guard]:
    """The triggers keeping a hash-chained table's rows (payments, charges, balances) and its chain head together,
    whoever writes them: a row's id must lie after its head, and the head must cover the row when it is written.

    The write door takes ids from the head (:meth:`vosbench.ledger.hashchain.ChainHead.link_all`), so a row a raw
    client slipped in after the head, without moving it, took the id of the next record written: every later write
    failed on it, in the words of the append-only guard. On SQLite and MariaDB the head now follows each row as it is
    written (an AFTER INSERT trigger: the write door then saves the head it computed, the same), so such a row is the
    chain's next link, which ``verify`` names when its hash does not link, and writing goes on. PostgreSQL, whose row
    versions would make one UPDATE of the head per row cost more with every row of a transaction, checks at commit
    that the head covers the row (a deferred constraint trigger) and refuses the transaction otherwise. The database
    cannot recompute a row's hash, which is of its values as the client encodes them; ``verify`` does. On a server the
    owner (a copy, a bulk import) is held by none of them.
    """
    server = "mysql" if dialect == "mariadb" else dialect
    owner = _OWNER.get(server)
    not_owner = f"NOT ({owner}) AND " if owner else ""
    made: list[Guard] = []
    if server == "postgresql":
        made.append(Guard("vosbench_by_owner", "", "CREATE OR REPLACE FUNCTION vosbench_by_owner() RETURNS boolean "
                                                   "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp "
                                                   f"AS $${_BY_OWNER}$$", installed=_BY_OWNER))
        made.append(_postgresql_function("vosbench_chain_covered", (
            "BEGIN IF NEW.id > (SELECT last_id FROM chain_heads WHERE name = TG_TABLE_NAME) THEN RAISE EXCEPTION "
            f"USING MESSAGE = replace('{CHAIN_COVER_REFUSAL}', '{{table}}', TG_TABLE_NAME), "
            "ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NULL; END ")))
    for table in CHAINED_TABLES:
        head = f"(SELECT h.last_id FROM chain_heads h WHERE h.name = '{table}')"
        carry = (f"UPDATE chain_heads SET last_id = NEW.id, head_hash = NEW.hash, row_count = row_count + 1 "
                 f"WHERE name = '{table}'")
        # SQLite and MariaDB: one trigger after the row's own rules (a bulk import pays for each one a row fires), which
        # sees the id the row took, then moves the head over it
        refusal = CHAIN_ID_REFUSAL.format(table=table)
        if server == "sqlite":
            made.append(Guard(f"{table}_chain_carry", table, (
                f"CREATE TRIGGER {table}_chain_carry AFTER INSERT ON {table} BEGIN SELECT RAISE(ABORT, "
                f"'{refusal}') WHERE NEW.id <= {head}; {carry}; END")))
        elif server == "mysql":
            made.append(Guard(f"{table}_chain_carry", table, (
                f"CREATE TRIGGER {table}_chain_carry AFTER INSERT ON {table} FOR EACH ROW IF NOT ({owner}) THEN "
                f"IF NEW.id <= {head} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refusal}'; END IF; "
                f"{carry}; END IF")))
        else:
            made += _refusing_insert(dialect, table, f"{table}_within_chain", f"vosbench_within_chain_{table}",
                                     f"{not_owner}NEW.id <= {head}", refusal)
            shown = (f"CREATE CONSTRAINT TRIGGER {table}_chain_covered AFTER INSERT ON {table} DEFERRABLE INITIALLY "
                     "DEFERRED FOR EACH ROW WHEN ((NOT vosbench_by_owner())) EXECUTE FUNCTION vosbench_chain_covered()")
            # a constraint trigger has no OR REPLACE: made once, and compared by verify as any other
            made.append(Guard(f"{table}_chain_covered", table, (
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{table}_chain_covered' "
                f"AND tgrelid = '{table}'::regclass) THEN {shown}; END IF; END $$"), shown))
    return made


HEAD_REFUSAL = ("chain_heads: a chain head moves only forward, over the rows it covers (the write door and the "
                "triggers move it); only the owner of the ledger adds, removes or moves one back")
"""What a server says to a login other than its owner adding, removing, renaming or moving back a chain head."""


def head_forward_guards(dialect: str) -> list[Guard]:
    """On a server, the triggers letting a login other than the owner move a chain head only forward: the writers'
    role may UPDATE ``chain_heads`` (the write door saves each head it advances, the chain triggers carry it over each
    row, a lock is a no-op UPDATE), and a head moved back, renamed or removed would make the next record take an id
    already taken (every later write refused, as a row slipped in beside the head did) or hide a chain; one whose
    hash changes with no row added would have every later record linked to a hash no row makes. Every head is the
    owner's to add (``server init`` and the upgrade do) and a copy rewrites them as the owner. None on SQLite, whose
    file's holder can change anything anyway."""
    server = "mysql" if dialect == "mariadb" else dialect
    owner = _OWNER.get(server)
    if owner is None:
        return []
    back = ("NEW.name <> OLD.name OR NEW.last_id < OLD.last_id OR NEW.row_count < OLD.row_count "
            "OR (NEW.row_count = OLD.row_count AND NEW.head_hash <> OLD.head_hash)")
    if server == "postgresql":
        function = "vosbench_chain_heads"
        shown = (f"CREATE TRIGGER chain_heads_forward BEFORE INSERT OR DELETE OR UPDATE ON chain_heads FOR EACH ROW "
                 f"EXECUTE FUNCTION {function}()")
        return [_postgresql_function(function, (
                    f"BEGIN IF NOT ({owner}) AND (TG_OP <> 'UPDATE' OR {back}) THEN RAISE EXCEPTION USING MESSAGE = "
                    f"'{HEAD_REFUSAL}', ERRCODE = 'insufficient_privilege'; END IF; "
                    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END ")),
                Guard("chain_heads_forward", "chain_heads", shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1),
                      shown)]
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{HEAD_REFUSAL}'"
    return [Guard(f"chain_heads_forward_{event.lower()}", "chain_heads",
                  f"CREATE TRIGGER chain_heads_forward_{event.lower()} BEFORE {event} ON chain_heads FOR EACH ROW "
                  f"IF NOT ({owner}){condition} THEN {refuse}; END IF")
            for event, condition in (("INSERT", ""), ("UPDATE", f" AND ({back})"), ("DELETE", ""))]


_BY_OWNER = "SELECT session_user = current_user"
"""PostgreSQL's test of the owner's session, run as the owner (:func:`chain_head_guards`' trigger condition)."""


# --- a day's charges: never negative (see write_door._CHARGES) --------------------------------------------------

CHARGE_COLUMNS = ("call_fee", "agent_fee", "other_fee", "calls")
"""The charges' figures, each zero or more: a negative fee would credit an account with no second person."""
CHARGE_REFUSAL = ("charges: a fee and a count of calls are zero or more; a credit to an account is a payment "
                  "(an adjustment or a reversal), which a supervisor approves above its threshold")


def charge_sign_guards(dialect: str) -> list[Guard]:
    """The trigger refusing, on ``dialect``, a charges row with a negative figure, whatever client sends it: the write
    door refuses it with its line, but a modified client's negative call fee would credit an account by any amount,
    outside the approvals that hold a payment."""
    negative = " OR ".join(f"NEW.{column} < 0" for column in CHARGE_COLUMNS)
    return _refusing_insert(dialect, "charges", "charges_sign", "vosbench_charge_sign", negative, CHARGE_REFUSAL,
                            "check_violation")


# --- the ledger's settings: the owner's alone on a server -------------------------------------------------------

KEPT_UP_SETTING = "payment_text_indexed_through"
"""The one ``ledger_meta`` value a login's writes keep up: the highest payment id the text index holds
(:data:`vosbench.ledger.text_index.MARK_KEY`)."""

SETTINGS_REFUSAL = ("ledger_meta: only the owner of the ledger changes its settings (its time zone, its schema "
                    "version); the writes of a login keep up the mark of the text index alone")


def settings_guards(dialect: str) -> list[Guard]:
    """On a server, the triggers keeping every ``ledger_meta`` value but the text index's mark to the owner: the
    writers' role may update and delete the table for that mark, and one UPDATE of the time zone would recut every
    day and month of everyone's reports. None on SQLite, whose file's holder can change anything anyway (and whose
    close receipts record the zone each month was closed in)."""
    server = "mysql" if dialect == "mariadb" else dialect
    owner = _OWNER.get(server)
    if owner is None:
        return []
    if server == "postgresql":
        function = "vosbench_settings"
        row = "(CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END)"
        changed = f"{row} <> '{KEPT_UP_SETTING}' OR (TG_OP = 'UPDATE' AND OLD.key <> '{KEPT_UP_SETTING}')"
        shown = (f"CREATE TRIGGER ledger_meta_settings BEFORE INSERT OR DELETE OR UPDATE ON ledger_meta FOR EACH ROW "
                 f"EXECUTE FUNCTION {function}()")
        return [_postgresql_function(function, (
                    f"BEGIN IF NOT ({owner}) AND ({changed}) THEN RAISE EXCEPTION USING MESSAGE = '{SETTINGS_REFUSAL}', "
                    "ERRCODE = 'insufficient_privilege'; END IF; "
                    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END ")),
                Guard("ledger_meta_settings", "ledger_meta",
                      shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1), shown)]
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{SETTINGS_REFUSAL}'"
    made = []
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        name = f"ledger_meta_settings_{event.lower()}"
        changed = " OR ".join(f"{row}.`key` <> '{KEPT_UP_SETTING}'" for row in rows)
        made.append(Guard(name, "ledger_meta", f"CREATE TRIGGER {name} BEFORE {event} ON ledger_meta FOR EACH ROW "
                                               f"IF NOT ({owner}) AND ({changed}) THEN {refuse}; END IF"))
    return made


def expected_guards(dialect: str) -> list[Guard]:
    """The triggers (and on PostgreSQL their functions) the guarded tables must have on ``dialect``:
    what ``verify`` compares the database's catalogue with."""
    guards = _GUARDS.get(dialect)
    if guards is None:
        raise StoreError(
            f"the append-only guard is not implemented for {dialect!r}; "
            "use SQLite (the default), PostgreSQL (postgresql+psycopg://…) or MariaDB (mysql+pymysql://…)"
        )
    functions = ([_postgresql_function(name, body) for name, body in _POSTGRESQL_FUNCTIONS.items()]
                 if dialect == "postgresql" else [])
    checks = threshold_guards(dialect)  # on PostgreSQL its functions come before the triggers calling them
    checks += (account_currency_guards(dialect) + currency_code_guards(dialect) + charge_sign_guards(dialect)
               + settings_guards(dialect) + chain_head_guards(dialect) + head_forward_guards(dialect))
    return functions + [guard for name in GUARDED_TABLES for guard in guards(metadata.tables[name])] + checks


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the guarded tables refuse UPDATE, DELETE, TRUNCATE and replacement and
    chain their rows (idempotent; on PostgreSQL they also replace a guard of an earlier form)."""
    return [guard.sql if dialect == "postgresql" else
            guard.sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
            for guard in expected_guards(dialect)]


DISABLED = "(disabled) "
"""What :func:`present_guards` puts before a trigger the database holds but does not fire."""

_PRESENT_SQL = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
    # 'O' fires in a normal session, 'A' always; 'D' (disabled) and 'R' (replica only) do not fire
    "postgresql": "SELECT t.tgname, CASE WHEN t.tgenabled IN ('O', 'A') THEN '' ELSE :disabled END || "
                  "regexp_replace(pg_get_triggerdef(t.oid), ' ON [^ ]+[.]', ' ON ') "
                  "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                  "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
                  "UNION ALL SELECT proname, prosrc FROM pg_proc "
                  "WHERE proname LIKE 'vosbench%' AND pronamespace = current_schema()::regnamespace",
    "mysql": "SELECT TRIGGER_NAME, CONCAT('CREATE TRIGGER ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION, "
             "' ON ', EVENT_OBJECT_TABLE, ' FOR EACH ROW ', ACTION_STATEMENT) "
             "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
}


_MYSQL_MAY_SEE_TRIGGERS = (
    "SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'TRIGGER' "
    "UNION ALL SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES "
    "WHERE PRIVILEGE_TYPE = 'TRIGGER' AND TABLE_SCHEMA = DATABASE()")


def present_guards(connection: sa.Connection) -> dict[str, str]:
    """The triggers (and trigger functions) the database holds: name → as :attr:`Guard.catalogued` shows it.

    A PostgreSQL trigger that is there but disabled comes with :data:`DISABLED` before it.
    """
    dialect = "mysql" if connection.dialect.name == "mariadb" else connection.dialect.name
    if dialect not in _PRESENT_SQL:
        raise StoreError(f"comparing the installed guards of a {connection.dialect.name!r} ledger is not implemented")
    if dialect == "mysql" and not connection.execute(sa.text(_MYSQL_MAY_SEE_TRIGGERS)).first():
        raise StoreError("MariaDB shows a database's triggers only to logins holding its TRIGGER privilege, which "
                         "the application's roles do not; run `vosbench verify` as the ledger's owner to compare them")
    return {name: text for name, text in connection.execute(sa.text(_PRESENT_SQL[dialect]), {"disabled": DISABLED})}
