"""A realistic, deterministic VOS3000 dataset for the tests and the benchmark.

Agents and their customers in ``e_customer`` (``customer_id`` = the agent's id), and
day by day: calls in the daily ``e_cdr_YYYYMMDD`` table (``fee`` from the customer,
``agentfee`` from the agent), payment records in ``e_payhistory`` (account opening,
recharges, deductions with a *positive* ``paymoney``, the odd make-zero) whose
``customermoney`` is the balance right after them, and monthly rent in
``e_consumption``. Balances are simulated in exact minor units and written as the
doubles VOS3000 would hold, so ``e_customer.money`` agrees with the history exactly —
what a sync must reproduce.

Rows are written with ``LOAD DATA LOCAL INFILE`` from temporary files (a million rows
in seconds, not minutes).
"""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from vosbench.sources.vos3000 import schema
from vosbench.sources.vos3000.convert import to_epoch_ms

UNIT = 10_000
_DEPOSITS = [10, 20, 25, 50, 100, 200, 500]


@dataclass(frozen=True)
class DatasetSpec:
    agents: int = 3
    customers: int = 40
    days: int = 6
    first_day: date = date(2026, 10, 1)
    payments: int = 400  # e_payhistory rows in all (opening records included)
    calls_per_day: int = 300  # rows in each daily CDR table
    timezone: str = "UTC"
    seed: int = 6
    inexact_fees: int = 0  # calls whose fee has more than 4 decimal places


@dataclass
class Dataset:
    """What was written, for the tests to compare with: balances in minor units."""

    spec: DatasetSpec
    balances: dict[str, int] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    payment_rows: int = 0
    cdr_rows: int = 0
    consumption_rows: int = 0
    charge_days: list[date] = field(default_factory=list)


class _Loader:
    """Buffers rows per table in a temporary TSV file and loads them with LOAD DATA."""

    def __init__(self, connection: sa.Connection, folder: Path):
        self.connection, self.folder = connection, folder
        self.files: dict[str, tuple] = {}

    def add(self, table: str, row: tuple) -> None:
        if table not in self.files:
            handle = open(self.folder / f"{table}.tsv", "w", newline="", encoding="utf-8")
            self.files[table] = (handle, csv.writer(handle, delimiter="\t", lineterminator="\n"))
        self.files[table][1].writerow(row)

    def flush(self) -> None:
        for table, (handle, _writer) in self.files.items():
            handle.close()
            self.connection.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE '{self.folder / (table + '.tsv')}' INTO TABLE `{table}` "
                "CHARACTER SET utf8 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'")
        self.files = {}


def _double(minor: int) -> str:
    """The text MariaDB parses into the double nearest the exact amount (as VOS3000 would hold it)."""
    return repr(minor / UNIT)


def write_dataset(url: str, spec: DatasetSpec = DatasetSpec()) -> Dataset:
    """Create the VOS3000 tables at ``url`` (a MariaDB database) and fill them per ``spec``."""
    rng = random.Random(spec.seed)
    zone = ZoneInfo(spec.timezone)
    days = [spec.first_day + timedelta(days=n) for n in range(spec.days)]
    engine = sa.create_engine(url, connect_args={"local_infile": True})
    out = Dataset(spec, charge_days=days)
    agents = [f"A{n:03d}" for n in range(1, spec.agents + 1)]
    customers = [f"C{n:06d}" for n in range(1, spec.customers + 1)]
    agent_of = {account: agents[n % len(agents)] for n, account in enumerate(customers)}
    ids = {account: n for n, account in enumerate(agents + customers, start=1)}
    balance = {account: 0 for account in agents + customers}
    out.agents = agents
    payment_id, consumption_id, flowno = 1000, 500, 10_000_000
    extra_payments = max(spec.payments - len(customers) - len(agents), 0)
    per_day = [extra_payments // spec.days + (1 if n < extra_payments % spec.days else 0) for n in range(spec.days)]
    inexact_left = spec.inexact_fees
    with engine.begin() as connection, tempfile.TemporaryDirectory() as folder:
        schema.create_tables(connection, days)
        loader = _Loader(connection, Path(folder))
        for day_index, day in enumerate(days):
            start = to_epoch_ms(datetime.combine(day, time(), zone))
            events: list[tuple] = []  # (ms, order, account, kind, amount, extra)
            if day_index == 0:
                for account in agents + customers:
                    opening = rng.choice(_DEPOSITS) * 10 * UNIT if account in agents else rng.choice(_DEPOSITS) * UNIT
                    events.append((start + rng.randrange(0, 3_600_000), 0, account, "payment", opening, (2, 0)))
                for account in rng.sample(customers, max(1, len(customers) // 10)):  # monthly rent
                    events.append((start + 4_000_000 + rng.randrange(0, 1000), 1, account, "rent", 5 * UNIT, None))
            for _ in range(per_day[day_index]):
                account = rng.choice(customers + agents[:1])
                at = start + rng.randrange(3_700_000, 86_400_000)
                roll = rng.random()
                if roll < 0.85:
                    events.append((at, 2, account, "payment", rng.choice(_DEPOSITS) * UNIT, (0, rng.choice((0, 2, 3)))))
                elif roll < 0.97:
                    events.append((at, 2, account, "payment", -rng.randrange(1, 20) * UNIT, (1, 5)))
                else:
                    events.append((at, 2, account, "zero", 0, (3, 5)))
            for _ in range(spec.calls_per_day):
                customer = rng.choice(customers)
                seconds = rng.randrange(5, 900)
                fee = (seconds * rng.choice((12, 15, 23, 31))) // 6  # 4-place fee: rate per minute × minutes
                raw_fee = None
                if inexact_left > 0:
                    inexact_left -= 1
                    raw_fee = fee / UNIT + 0.000033
                stop = start + rng.randrange(3_700_000, 86_399_000)
                events.append((stop, 3, customer, "call", fee, (seconds, raw_fee, fee // 10)))
            events.sort(key=lambda event: (event[0], event[1]))
            table = schema.daily_cdr_name(day)
            for at, _order, account, what, amount, extra in events:
                if what == "call":
                    flowno += 1
                    seconds, raw_fee, agentfee = extra
                    agent = agent_of[account]
                    charged = round(raw_fee * UNIT) if raw_fee is not None else amount
                    balance[account] -= charged
                    balance[agent] -= agentfee
                    loader.add(table, (
                        flowno, account, f"Customer {account}", agent, f"Agent {agent}", "971500000000",
                        "441234567890", at - seconds * 1000, at, seconds, seconds,
                        repr(raw_fee) if raw_fee is not None else _double(amount), 0, 0, 0, _double(agentfee),
                        0, 0, 0, 0, 5, 0, 0, r"\N", 0, 0))
                    out.cdr_rows += 1
                elif what == "rent":
                    consumption_id += 1
                    balance[account] -= amount
                    loader.add("e_consumption", (
                        consumption_id, account, f"Customer {account}", _double(amount), _double(balance[account]),
                        at, 0, "package rent", agent_of[account], f"Agent {agent_of[account]}", ""))
                    out.consumption_rows += 1
                else:
                    type_code, paytype = extra
                    movement = -balance[account] if what == "zero" else amount
                    balance[account] += movement
                    payment_id += 1
                    agent = agent_of.get(account, "")
                    loader.add("e_payhistory", (
                        payment_id, account, f"Customer {account}", _double(abs(movement)), at,
                        _double(balance[account]), f"generated {type_code}", paytype, type_code,
                        rng.choice(("admin", "finance1", "finance2")), agent, f"Agent {agent}" if agent else ""))
                    out.payment_rows += 1
            loader.flush()
        for account in agents + customers:
            parent = agent_of.get(account)
            loader.add("e_customer", (
                ids[account], account, f"{'Agent' if parent is None else 'Customer'} {account}", 0,
                _double(balance[account]), _double(100 * UNIT), 0, 0, 1, to_epoch_ms(datetime.combine(days[0], time())),
                4102444800000, to_epoch_ms(datetime.combine(days[-1], time())), "", 0,
                ids[parent] if parent else 0, 1))
        loader.flush()
    engine.dispose()
    out.balances = dict(balance)
    return out
