"""The planted anomalies of the last month and the answer key that lists them.

Each kind is planted exactly once, on its own long-lived account, through the same
schedule as ordinary records — so everything around it stays consistent and the
anomaly is the only thing wrong. Only two are visible to a balance reconciliation:
a deposit whose balance did not update, and a month-end snapshot that disagrees with
the records. The others are for the audit controls to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from vosbench.core.money import UNIT, format_money
from vosbench.sources.demo.hierarchy import CORE_HABITS, TWIN_OF_CORE, Customer, Hierarchy
from vosbench.sources.demo.incidents import working_slot
from vosbench.sources.demo.operators import HOUR, on_duty
from vosbench.sources.demo.payments import RecordMaker, nice
from vosbench.sources.demo.schedule import Schedule
from vosbench.sources.demo.simulate import commission
from vosbench.sources.demo.timeline import DemoMonth

KINDS = ("balance_not_updated", "snapshot_mismatch", "adjustment_without_reason", "unapproved_large_deposit",
         "duplicate_deposit", "wrong_account_deposit", "reversed_deposit", "commission_mismatch")


@dataclass
class Anomaly:
    """One planted anomaly; ``payment_ids`` are filled in once its records are in the ledger."""

    id: str
    kind: str
    account: str
    month: str
    reconciliation_visible: bool
    detail: str
    payment_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "account": self.account, "payment_ids": self.payment_ids,
                "month": self.month, "reconciliation_visible": self.reconciliation_visible,
                "detail": self.detail}


def plant(hierarchy: Hierarchy, month: DemoMonth, maker: RecordMaker, schedule: Schedule,
          seed: int) -> list[Anomaly]:
    """Schedule one of each kind in ``month`` (the demo's last) and return them in :data:`KINDS` order."""
    rng = random.Random(f"{seed}:anomalies")
    maker.rng = rng
    twin, intended = (hierarchy.customers[i] for i in TWIN_OF_CORE)
    pool = [c for c in hierarchy.steady(month.index) if c not in (twin, intended)]
    rng.shuffle(pool)

    def pick(habit: str | None = None, *, smallest: bool = False) -> Customer:
        candidates = [c for c in pool if habit is None or c.habit == habit]
        chosen = min(candidates, key=lambda c: c.calls_per_day * c.rate) if smallest else candidates[0]
        pool.remove(chosen)
        return chosen

    label, last_day = month.label, len(month.days) - 4
    made: list[Anomaly] = []

    def add(kind: str, account: str, visible: bool, detail: str, *drafts) -> None:
        anomaly_id = f"A{len(made) + 1}"
        for draft in drafts:
            draft.tag = anomaly_id
        schedule.add(month.index, *drafts)
        made.append(Anomaly(anomaly_id, kind, account, label, visible, detail))

    c = pick("web")
    day = rng.randrange(4, last_day)
    amount = nice(rng.randint(150, 600) * UNIT)
    deposit = maker.gateway(day, c.account, amount)
    deposit.applied = False
    add("balance_not_updated", c.account, True,
        f"web deposit of {format_money(amount)} on {month.days[day]} was recorded but the balance did not "
        f"move: its balance_after and every later reported balance of the account are "
        f"{format_money(amount)} short", deposit)

    c = pick()
    offset = rng.choice((-1, 1)) * (rng.randrange(1_000_000, 9_000_000) // 100 * 100 + rng.randrange(1, 100))
    schedule.snapshot_offsets[(month.index, c.account)] = offset
    add("snapshot_mismatch", c.account, True,
        f"the {label} month-end balance reported for the account is {format_money(offset, 4)} off the "
        "balance its records give; the records themselves are consistent")

    c = pick()
    day, clerk, seconds = working_slot(rng, month, 3, last_day, "clerk")
    amount = rng.randint(150, 900) * UNIT + rng.choice((0, 2_500, 5_000))
    add("adjustment_without_reason", c.account, False,
        f"adjustment of +{format_money(amount)} entered by {clerk} with no reason",
        maker.adjustment(day, c.account, amount, clerk, seconds, reason=""))

    c = pick(smallest=True)
    day, clerk, seconds = working_slot(rng, month, 3, last_day, "clerk")
    amount = rng.randint(35, 60) * 1_000 * UNIT + rng.choice((0, 250, 500)) * UNIT
    deposit = maker.bank_wire(month, day, c.account, c.name, amount, clerk, seconds)
    deposit.approved_by = ""
    add("unapproved_large_deposit", c.account, False,
        f"manual bank-wire deposit of {format_money(amount)} entered by {clerk} without approval "
        f"(approved_by empty; deposits from 10,000.00 need a second operator), many times this "
        f"customer's usual top-up", deposit)

    c = pick("wire")
    day, clerk, seconds = working_slot(rng, month, 3, last_day, "clerk")
    amount = nice(rng.randint(800, 4_000) * UNIT)
    first = maker.bank_wire(month, day, c.account, c.name, amount, clerk, seconds)
    second = maker.bank_wire(month, day, c.account, c.name, amount, *_later_slot(rng, month, day, clerk, seconds),
                             reference=first.reference)
    add("duplicate_deposit", c.account, False,
        f"the same wire ({first.reference}, {format_money(amount)}) was entered twice on {month.days[day]}, "
        f"by {first.operator} and {second.operator}; both raised the balance", first, second)

    day, clerk, seconds = working_slot(rng, month, 3, last_day, "clerk")
    amount = nice(rng.randint(500, 3_000) * UNIT)
    deposit = maker.bank_wire(month, day, twin.account, twin.name, amount, clerk, seconds,
                              memo=f"Wire from {intended.name}, ref. {intended.account}")
    add("wrong_account_deposit", twin.account, False,
        f"wire of {format_money(amount)} from {intended.name} ({intended.account}) was credited to "
        f"{twin.account} '{twin.name}', whose name is nearly the same; the memo names the intended account",
        deposit)

    c = pick()
    day, clerk, seconds = working_slot(rng, month, 3, last_day, "clerk")
    amount = nice(rng.randint(300, 3_000) * UNIT)
    deposit = maker.bank_wire(month, day, c.account, c.name, amount, clerk, seconds)
    reversal = maker.reversal(deposit, day, clerk, seconds + rng.randint(600, HOUR),
                              "Entered in error: the wire is not on the bank statement")
    add("reversed_deposit", c.account, False,
        f"deposit of {format_money(amount)} ({deposit.reference}) reversed the same day by {clerk}, the "
        "operator who entered it", deposit, reversal)

    # An agent with a long-lived customer, so that last month's commission is certainly due.
    agent = hierarchy.agents[rng.choice(sorted({c.agent for c in hierarchy.customers[:len(CORE_HABITS)]}))]
    wrong = str(Decimal(agent.commission_rate) - Decimal("0.005"))
    add("commission_mismatch", agent.account, False,
        f"commission paid on {month.days[0]} at {wrong} instead of the configured {agent.commission_rate} "
        f"of the sub-accounts' call fees")
    schedule.commission_faults[(month.index, agent.account)] = (wrong, made[-1].id)
    return made


def describe_commission(anomaly: Anomaly, rate: str, wrong_rate: str, call_fees: int) -> None:
    """Complete the commission anomaly's detail once the month's traffic is known."""
    paid, due = commission(call_fees, wrong_rate), commission(call_fees, rate)
    anomaly.detail = (f"{anomaly.detail}: call fees {format_money(call_fees, 4)} × {rate} = "
                      f"{format_money(due, 4)} due, {format_money(paid, 4)} paid "
                      f"({format_money(paid - due, 4)})")


def _later_slot(rng: random.Random, month: DemoMonth, day: int, clerk: str, seconds: int) -> tuple[str, int]:
    """Another clerk, an hour or more after ``seconds`` within their shift (the same clerk if nobody else)."""
    others = [op for op in on_duty(month, day, "clerk") if op.login != clerk and op.ends * HOUR > seconds + 2 * HOUR]
    if not others:
        return clerk, seconds + rng.randint(600, 1800)
    other = rng.choice(others)
    return other.login, rng.randrange(max(other.starts * HOUR, seconds + HOUR), other.ends * HOUR - 120)
