"""Who is in the demo: resellers, their agents, the agents' customers, and how each behaves.

A profile holds what stays fixed for an account over the demo — size, prices, how it
pays, when it opens and whether it leaves. The simulation reads profiles; it never
changes them. Money is integer minor units; only call counts and minutes (not money)
are drawn as floats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from vosbench.core.model import AccountKind
from vosbench.core.money import UNIT
from vosbench.ledger.write_door import NewAccount
from vosbench.sources.demo import names
from vosbench.sources.demo.scale import DemoScale

HABITS = ("wire", "web", "ivr", "cash", "auto")
"""How a customer tops up: bank wire, web gateway, IVR recharge cards, cash at the office,
or auto-recharge from a stored card."""

CORE_HABITS = ("wire", "web", "ivr", "cash", "auto", "web", "wire", "web", "wire", "web")
"""The first customers are long-lived and cover every habit, so that even a small demo
has every channel and method and accounts to plant the anomalies on."""
TWIN_OF_CORE = (7, 6)
"""Customer 7's name is a near-duplicate of customer 6's (the wrong-account pair)."""


@dataclass(frozen=True)
class Reseller:
    index: int
    account: str
    name: str
    commission_rate: str  # decimal text, e.g. "0.015"


@dataclass(frozen=True)
class Agent:
    index: int
    account: str
    name: str
    reseller: int
    commission_rate: str
    wholesale_percent: int  # the agent's price for a minute, as a percent of the retail price
    credit_limit: int


@dataclass(frozen=True)
class Customer:
    index: int
    account: str
    name: str
    agent: int
    opens: int  # month index of the first deposit
    open_day: int  # day index in that month
    churns: int | None  # month index it stops calling, None if it stays
    churn_day: int
    refund_on_churn: bool
    calls_per_day: float  # on average over all days
    calling_share: float  # share of days with any call: small accounts do not call every day
    minutes_per_call: float
    growth: float  # traffic factor per month of age
    rate: int  # retail price of a billed minute, minor units
    agent_rate: int  # what the agent pays for that minute, minor units
    habit: str
    top_ups: float  # top-ups per month at the realistic mix
    credit_limit: int
    package_rent: int  # monthly package rent (other_fee) or 0
    welcome_bonus: bool


@dataclass(frozen=True)
class Hierarchy:
    resellers: tuple[Reseller, ...]
    agents: tuple[Agent, ...]
    customers: tuple[Customer, ...]
    timezone: str  # every account is shown in the ledger's zone
    currencies: tuple[str, ...] = ("USD",)

    def currency(self, reseller: int) -> str:
        """A reseller's subtree holds one currency: the resellers take the currencies in turn."""
        return self.currencies[reseller % len(self.currencies)]

    def account_rows(self) -> list[NewAccount]:
        """The accounts batch, parents before their accounts."""
        zone = self.timezone
        rows = [NewAccount(r.account, r.name, AccountKind.RESELLER, "", 0, self.currency(r.index), zone)
                for r in self.resellers]
        rows += [NewAccount(a.account, a.name, AccountKind.AGENT, self.resellers[a.reseller].account,
                            a.credit_limit, self.currency(a.reseller), zone) for a in self.agents]
        rows += [NewAccount(c.account, c.name, AccountKind.CUSTOMER, self.agents[c.agent].account,
                            c.credit_limit, self.currency(self.agents[c.agent].reseller), zone)
                 for c in self.customers]
        return rows

    def commission_earners(self) -> tuple[Reseller | Agent, ...]:
        """The resellers, then the agents: the accounts paid a commission rate."""
        return (*self.resellers, *self.agents)

    def steady(self, month_index: int) -> list[Customer]:
        """Customers opened before ``month_index`` that keep calling through it: safe to plant records on."""
        return [c for c in self.customers
                if c.opens < month_index and (c.churns is None or c.churns > month_index)]


def generate(scale: DemoScale, timezone: str) -> Hierarchy:
    """The demo's accounts, drawn from the scale's seed alone."""
    rng = random.Random(f"{scale.seed}:hierarchy")
    currencies = tuple(scale.currencies)
    count = max(scale.resellers, len(currencies))  # one reseller per currency at least
    resellers = tuple(
        Reseller(i, f"R{i + 1:04d}", _reseller_name(i, rng), rng.choice(("0.010", "0.015", "0.020")))
        for i in range(count))
    agents = tuple(
        Agent(i, f"A{i + 1:04d}", names.company_name(rng), i % count,
              rng.choice(("0.030", "0.035", "0.040", "0.045", "0.050")), rng.randint(80, 88),
              rng.choice((25_000, 50_000, 100_000)) * UNIT)
        for i in range(scale.agents))
    weights = [rng.uniform(0.5, 3.0) for _ in agents]
    width = max(5, len(str(scale.customers)))
    customers: list[Customer] = []
    for i in range(scale.customers):
        agent = agents[i % len(agents)] if i < len(agents) else rng.choices(agents, weights)[0]
        customers.append(_customer(i, f"C{i + 1:0{width}d}", agent, scale.months, rng, customers))
    return Hierarchy(resellers, agents, tuple(customers), timezone, currencies)


def _reseller_name(index: int, rng: random.Random) -> str:
    regional = ("MENA Carrier Services FZE", "Asia Pacific Voice Wholesale Ltd", "Africa Telecom Partners LLC")
    return regional[index] if index < len(regional) else names.company_name(rng)


def _customer(index: int, account: str, agent: Agent, months: int, rng: random.Random,
              earlier: list[Customer]) -> Customer:
    core = index < len(CORE_HABITS)
    calls = min(3000.0, max(0.5, rng.lognormvariate(3.0, 1.3)))  # median ~20 calls a day
    if core:
        opens, open_day, churns = 0, rng.randrange(4), None
    else:
        opens = 0 if rng.random() < 0.35 else rng.randrange(1, months)
        open_day = rng.randrange(7) if opens == 0 else rng.randrange(28)
        churn_at = opens + rng.randint(3, 18) if rng.random() < 0.15 else months
        churns = churn_at if churn_at < months else None
    habit = CORE_HABITS[index] if core else _habit(calls, rng)
    rate = rng.randint(90, 650)
    name = _name(index, calls, rng, earlier)
    return Customer(
        index=index, account=account, name=name, agent=agent.index, opens=opens, open_day=open_day,
        churns=churns, churn_day=rng.randrange(28), refund_on_churn=rng.random() < 0.5,
        calls_per_day=calls, calling_share=min(1.0, 0.3 + calls / 15), minutes_per_call=rng.uniform(1.8, 4.5),
        growth=rng.uniform(0.99, 1.04),
        rate=rate, agent_rate=rate * agent.wholesale_percent // 100, habit=habit,
        top_ups={"wire": rng.uniform(1.5, 2.5), "web": rng.uniform(2.0, 5.0), "ivr": rng.uniform(3.0, 6.0),
                 "cash": rng.uniform(1.5, 3.0), "auto": rng.uniform(2.0, 4.0)}[habit],
        credit_limit=rng.choice((500, 1000, 2500, 5000)) * UNIT if rng.random() < 0.1 else 0,
        package_rent=rng.choice((15, 25, 49)) * UNIT if rng.random() < 0.12 else 0,
        welcome_bonus=rng.random() < 0.25)


def _habit(calls_per_day: float, rng: random.Random) -> str:
    if calls_per_day > 150:
        weights = (60, 25, 0, 0, 15)
    elif calls_per_day > 10:
        weights = (20, 45, 5, 15, 15)
    else:
        weights = (5, 30, 35, 15, 15)
    return rng.choices(HABITS, weights)[0]


def _name(index: int, calls_per_day: float, rng: random.Random, earlier: list[Customer]) -> str:
    if index == TWIN_OF_CORE[0]:
        return names.near_duplicate(earlier[TWIN_OF_CORE[1]].name, rng)
    if earlier and index >= len(CORE_HABITS) and rng.random() < 0.03:
        return names.near_duplicate(rng.choice(earlier).name, rng)
    return names.company_name(rng) if calls_per_day > 10 or rng.random() < 0.3 else names.person_name(rng)
