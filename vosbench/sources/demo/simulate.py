"""The month-by-month simulation: every account's balance as VOS3000 reports it.

Within a local day an account's payments apply in time order; the day's charges are
deducted at its end. ``balance_after`` and the month-end snapshots are read off that
running balance, so they agree with the ledger's convention by construction — except
where the schedule planted a record whose balance did not move, or a snapshot fault.
Customers run first (their traffic is the agents' wholesale cost and commission base),
then agents, then resellers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from operator import attrgetter

from vosbench.core import periods
from vosbench.core.money import UNIT
from vosbench.ledger.write_door import NewCharge, NewSnapshot
from vosbench.sources.demo import operators
from vosbench.sources.demo.hierarchy import Agent, Customer, Hierarchy, Reseller
from vosbench.sources.demo.payments import MINIMUM, Draft, RecordMaker, nice, top_ups
from vosbench.sources.demo.schedule import Schedule
from vosbench.sources.demo.timeline import DemoMonth
from vosbench.sources.demo.traffic import affordable, day_traffic, expected_fee, month_factor

COVER_DAYS = {"wire": 8, "cash": 6, "web": 3, "ivr": 2, "auto": 3}
"""A customer tops up when the balance would last fewer days than this; people who pay at
the office keep more in hand because the office closes at weekends."""
REFUND_MINIMUM = 20 * UNIT
AGENT_MINIMUM_TOP_UP = 10_000 * UNIT  # agents prepay in large wires, which need approval
PAYOUT_DAY = 9  # resellers are paid out from the 10th in every third month
EXACT_AMOUNTS_ABOVE = 2.0  # volume multiple beyond which top-ups may be any number of cents
CENT = UNIT // 100
_TIME_ORDER = attrgetter("seconds", "seq")


@dataclass
class MonthRecords:
    payments: list[Draft] = field(default_factory=list)
    charges: list[NewCharge] = field(default_factory=list)
    snapshots: list[NewSnapshot] = field(default_factory=list)


def _cents(amount: int) -> int:
    return max(CENT, amount // CENT * CENT)


def commission(call_fees: int, rate: str) -> int:
    """``rate`` × call fees, rounded half-to-even to the minor unit."""
    return int((Decimal(call_fees) * Decimal(rate)).to_integral_value(rounding=ROUND_HALF_EVEN))


class Simulation:
    """Carries balances from month to month; :meth:`run` produces one month's records."""

    def __init__(self, hierarchy: Hierarchy, schedule: Schedule, maker: RecordMaker, seed: int,
                 payments_per_month: int | None):
        self.hierarchy, self.schedule, self.maker = hierarchy, schedule, maker
        self.seed, self.payments_per_month = seed, payments_per_month
        self.balances = {row.account: 0 for row in hierarchy.account_rows()}
        self.has_history = dict.fromkeys(self.balances, False)
        self.opened = [False] * len(hierarchy.customers)
        self.call_fees: dict[int, list[int]] = {}  # month index -> call fees of each agent's customers
        self._volume_correction = 1.0  # learnt from the months so far: requested / produced

    def run(self, month: DemoMonth) -> MonthRecords:
        self.maker.rng = rng = random.Random(f"{self.seed}:{month.label}")
        out = MonthRecords()
        day_fees = [[0] * len(month.days) for _ in self.hierarchy.agents]
        self.call_fees[month.index] = [0] * len(self.hierarchy.agents)
        volume, exact = self._volume(month)
        for customer in self.hierarchy.customers:
            if customer.opens <= month.index:
                self._customer(customer, month, rng, volume, exact, day_fees, out)
        for agent in self.hierarchy.agents:
            self._agent(agent, month, rng, day_fees[agent.index], out)
        for reseller in self.hierarchy.resellers:
            self._reseller(reseller, month, rng, out)
        if self.payments_per_month and out.payments:  # half-way towards the target damps overshoot
            self._volume_correction *= min(2.0, max(0.5, self.payments_per_month / len(out.payments))) ** 0.5
        return out

    def _volume(self, month: DemoMonth) -> tuple[float, bool]:
        """How many times the realistic top-up frequency this month needs, and whether amounts go exact.

        The first guess assumes every calling customer tops up at its habit's rate all month; the
        correction learnt from earlier months takes up what the guess misses (customers opening
        mid-month, minimum top-up sizes). Volumes far above the realistic mix (benchmarks) need
        top-ups smaller than people make: their amounts are exact cents instead of round sums.
        """
        if self.payments_per_month is None:
            return 1.0, False
        base = sum(c.top_ups for c in self.hierarchy.customers if month_factor(c, month.index) > 0)
        wanted = self.payments_per_month / base if base else 1.0
        return wanted * self._volume_correction, wanted > EXACT_AMOUNTS_ABOVE

    def _settle(self, account: str, drafts: list[Draft], balance: int, out: MonthRecords) -> int:
        """Apply a day's records in time order; each one's balance after is the running balance."""
        drafts.sort(key=_TIME_ORDER)
        for draft in drafts:
            if draft.applied:
                balance += draft.amount
            draft.balance_after = balance
        out.payments.extend(drafts)
        self.has_history[account] = True
        return balance

    def _snapshot(self, account: str, month: DemoMonth, balance: int, out: MonthRecords) -> None:
        self.balances[account] = balance
        if self.has_history[account]:
            offset = self.schedule.snapshot_offsets.get((month.index, account), 0)
            out.snapshots.append(NewSnapshot(account, month.end, balance + offset))

    def _customer(self, c: Customer, month: DemoMonth, rng: random.Random, volume: float, exact: bool,
                  day_fees: list[list[int]], out: MonthRecords) -> None:
        account, days, maker = c.account, month.days, self.maker
        balance = self.balances[account]
        scheduled = self.schedule.records(month.index, account)
        factor = month_factor(c, month.index)
        month_fee = expected_fee(c, factor, len(days))
        amount_of = _cents if exact else nice
        unit = max(CENT if exact else MINIMUM["gateway"], month_fee // max(1, round(c.top_ups * volume)))
        reorder = month_fee * COVER_DAYS[c.habit] // len(days)
        first = c.open_day if month.index == c.opens else 0
        calling_until = c.churn_day if c.churns == month.index else (len(days) if factor else 0)
        refund_due = c.refund_on_churn and c.churns == month.index
        rent_due = c.package_rent
        agent_fees, opened = day_fees[c.agent], self.opened[c.index]
        for d in range(len(days)):
            drafts = list(scheduled.get(d, ()))
            if first <= d < calling_until:
                if not opened:
                    opening = top_ups(maker, month, d, c, [nice(reorder + unit)])
                    if opening and c.welcome_bonus:
                        bonus = min(opening[0].amount // 10, 50 * UNIT)
                        opening.append(maker.bonus(opening[0], bonus, "WELCOME",
                                                   "Welcome bonus: 10% of the first top-up, at most 50.00"))
                    opened = bool(opening)
                    drafts += opening
                elif balance < reorder:
                    count = 1 + (reorder - balance) // unit
                    if c.habit == "auto":
                        drafts += [maker.auto_recharge(month, d, account, amount_of(unit), n) for n in range(count)]
                    else:
                        drafts += top_ups(maker, month, d, c, [amount_of(unit * rng.randint(85, 120) // 100)
                                                               for _ in range(count)], exact=exact)
            elif refund_due and d > c.churn_day and balance >= REFUND_MINIMUM:
                slot = operators.manual_slot(rng, month, d, "supervisor")
                if slot:
                    drafts.append(maker.withdrawal(d, account, balance, *slot, f"REFUND-{account}",
                                                   "Refund of the remaining balance on closing the account"))
                    refund_due = False
            if drafts:
                balance = self._settle(account, drafts, balance, out)
            if opened and d < calling_until:
                calls, minutes = day_traffic(rng, c, factor, days[d].weekday())
                calls, minutes = affordable(calls, minutes, c.rate, balance + c.credit_limit)
                rent, rent_due = rent_due, 0
                if calls or rent:
                    fee = minutes * c.rate
                    out.charges.append(NewCharge(account, days[d], fee, 0, rent, calls))
                    balance -= fee + rent
                    agent_fees[d] += minutes * c.agent_rate
                    self.call_fees[month.index][c.agent] += fee
        self.opened[c.index] = opened
        self._snapshot(account, month, balance, out)

    def _agent(self, agent: Agent, month: DemoMonth, rng: random.Random, fees: list[int], out: MonthRecords) -> None:
        account, maker = agent.account, self.maker
        balance = self.balances[account]
        scheduled = self.schedule.records(month.index, account)
        unit = max(AGENT_MINIMUM_TOP_UP, nice(sum(fees) // 3))
        reorder = sum(fees) * 10 // len(month.days)
        for d, day in enumerate(month.days):
            drafts = list(scheduled.get(d, ()))
            if d == 0 and month.index > 0:
                drafts += self._commission(account, agent.commission_rate, month,
                                           self.call_fees[month.index - 1][agent.index])
            if balance < reorder:
                slot = operators.manual_slot(rng, month, d)
                if slot:
                    count = 1 + (reorder - balance) // unit
                    drafts += [maker.bank_wire(month, d, account, agent.name, unit, slot[0], slot[1] + 300 * n,
                                               memo=f"Wire from {agent.name} (agent prepayment)")
                               for n in range(count)]
            if drafts:
                balance = self._settle(account, drafts, balance, out)
            if fees[d]:
                out.charges.append(NewCharge(account, day, 0, fees[d], 0, 0))
                balance -= fees[d]
                self.has_history[account] = True
        self._snapshot(account, month, balance, out)

    def _reseller(self, reseller: Reseller, month: DemoMonth, rng: random.Random, out: MonthRecords) -> None:
        account = reseller.account
        balance = self.balances[account]
        scheduled = self.schedule.records(month.index, account)
        payout_due = month.index % 3 == 2
        for d in range(len(month.days)):
            drafts = list(scheduled.get(d, ()))
            if d == 0 and month.index > 0:
                fees = self.call_fees[month.index - 1]
                base = sum(fees[a.index] for a in self.hierarchy.agents if a.reseller == reseller.index)
                drafts += self._commission(account, reseller.commission_rate, month, base)
            if payout_due and d >= PAYOUT_DAY and balance >= UNIT:
                slot = operators.manual_slot(rng, month, d, "supervisor")
                if slot:
                    drafts.append(self.maker.withdrawal(
                        d, account, balance // UNIT * UNIT, *slot, f"PAYOUT-{month.label}-{account}",
                        "Quarterly payout of reseller commission to the bank account on file"))
                    payout_due = False
            if drafts:
                balance = self._settle(account, drafts, balance, out)
        self._snapshot(account, month, balance, out)

    def _commission(self, account: str, rate: str, month: DemoMonth, call_fees: int) -> list[Draft]:
        """The commission on last month's sub-account call fees, paid on the 1st at 02:00."""
        applied, tag = self.schedule.commission_faults.get((month.index, account), (rate, ""))
        amount = commission(call_fees, applied)
        if amount <= 0:
            return []
        period = self._previous_label(month)
        draft = self.maker.commission(month, account, amount, period,
                                      f"Commission for {period} traffic of the sub-accounts")
        draft.tag = tag
        return [draft]

    @staticmethod
    def _previous_label(month: DemoMonth) -> str:
        return periods.shift_label(month.label, -1)
