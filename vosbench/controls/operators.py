"""Who entered what: entries outside working hours, operator concentration, self-dealing, unregistered names.

These checks need the back office as configured (the ``operators`` table: shift and
working days in the operator's own time zone; ``operator_accounts``: accounts an
operator owns or manages). Where the ledger has no such data they find nothing, and
the runner says the check had nothing to read.
"""

from __future__ import annotations

import math

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core import periods, timeshow

_WEEKDAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def outside_working_hours(data: MonthData) -> list[Finding]:
    """Manual entries made outside the operator's shift or working days, per operator and local day.

    What counts is when the person entered the record (:meth:`MonthData.entered_at`), not the date
    they gave it, which they choose: an entry made at night and dated inside the shift is off
    shift. Imported and synced records have only the date their source wrote.

    A night shift (its end before its start, 22:00 to 06:00) belongs to the day it starts
    on: an entry at 03:00 on Tuesday is in Monday's shift, so Monday must be a working day.
    """
    if data.operators.empty:
        return []
    grace = data.settings.working_hours_grace_minutes
    manual = data.manual().assign(entered_at=data.entered_at())
    found = []
    for person in data.operators.itertuples():
        mine = manual[manual["operator"] == person.login]
        if mine.empty:
            continue
        local = periods.local_times(mine["entered_at"], person.timezone)
        minute = local.dt.hour * 60 + local.dt.minute
        after_start, before_end = minute >= person.shift_start - grace, minute <= person.shift_end + grace
        if person.shift_end > person.shift_start:
            in_hours, shift_day = after_start & before_end, local
        else:  # overnight: the small hours count for the shift that started the evening before
            in_hours = after_start | before_end
            shift_day = local - pd.to_timedelta((before_end & ~after_start).astype(int), unit="D")
        off_day = ~(shift_day.dt.day_of_week + 1).astype(str).isin(list(person.working_days))
        outside = mine.assign(local=local)[off_day | ~in_hours]
        for day, group in outside.groupby(outside["local"].dt.date, sort=True):
            times = ", ".join(f"#{r.id} {timeshow.shown(r.entered_at, person.timezone)}" for r in group.itertuples())
            days = "".join(_WEEKDAYS[int(d) - 1][:2] for d in person.working_days)
            found.append(Finding(
                "outside_working_hours", "medium", data.month, tuple(group["account"]),
                f"{person.login} entered {len(group)} record(s) on {day:%a %Y-%m-%d} outside their shift "
                f"({_hhmm(person.shift_start)}–{_hhmm(person.shift_end)} {person.timezone}, {days}): {times}",
                tuple(group["id"]), person.login, int(group["amount"].abs().sum())))
    return found


def chance_of_at_least(entries: int, total: int, share: float) -> float:
    """P(X ≥ ``entries``) for X ~ Binomial(``total``, ``share``): how often chance alone gives this many."""
    return sum(math.comb(total, k) * share ** k * (1 - share) ** (total - k) for k in range(entries, total + 1))


def operator_concentration(data: MonthData) -> list[Finding]:
    """Accounts whose manual credits were nearly all entered by one operator, beyond what chance explains.

    On a small desk one operator may enter most of everything; then most of any one
    account's credits is expected, not a sign. An account is reported only when the
    operator's share of it is at least ``concentration_share`` *and* so unlikely given
    their share of all the month's manual credits (binomial tail) that chance explains it
    at most ``concentration_chance`` of the time.
    """
    settings = data.settings
    credits = data.manual()
    credits = credits[(credits["amount"] > 0) & credits["reverses_id"].isna()]
    counts = credits.groupby(["account", "operator"]).size().rename("entries").reset_index()
    counts["total"] = counts.groupby("account")["entries"].transform("sum")
    numerator, denominator = settings.concentration_share.as_integer_ratio()
    heavy = counts[(counts["total"] >= settings.concentration_min_credits)
                   & (counts["entries"] * denominator >= counts["total"] * numerator)]
    desk_share = credits["operator"].value_counts(normalize=True)
    by_pair = credits.groupby(["account", "operator"])  # one pass, not a scan of the month per finding
    found = []
    for row in heavy.itertuples():
        share = float(desk_share[row.operator])
        chance = chance_of_at_least(row.entries, row.total, share)
        if chance > settings.concentration_chance:
            continue
        ids = by_pair.get_group((row.account, row.operator))
        found.append(Finding(
            "operator_concentration", "medium", data.month, (row.account,),
            f"{row.operator} entered {row.entries} of the {row.total} manual credits to {row.account} this month "
            f"({data.money_text(ids['amount'].sum(), ids['currency'].iloc[0])}); they entered {share:.0%} of all manual credits, so "
            f"chance gives this many on one account {chance:.2%} of the time",
            tuple(ids["id"]), row.operator, int(ids["amount"].sum())))
    return found


def self_dealing(data: MonthData) -> list[Finding]:
    """Credits entered by an operator on an account they own or manage."""
    if data.managed.empty:
        return []
    credits = data.payments[data.payments["amount"] > 0]
    hits = credits.merge(data.managed, left_on=["operator", "account"], right_on=["login", "account"])
    found = []
    for (login, account, relation), group in hits.groupby(["login", "account", "relation"], sort=True):
        found.append(Finding(
            "self_dealing", "high", data.month, (account,),
            f"{login} credited {data.money_text(group['amount'].sum(), group['currency'].iloc[0])} in {len(group)} "
            f"record(s) to {account}, "
            f"an account linked to them ({relation}): " + ", ".join(f"#{i}" for i in group["id"]),
            tuple(group["id"]), login, int(group["amount"].sum())))
    return found


_EXAMPLES = 5
"""Records named in an unregistered name's finding; its count says how many there are."""


def unregistered_operators(data: MonthData) -> list[Finding]:
    """Records whose operator (on a manual channel) or approver is not a registered operator.

    The write door takes a person's entry only from a registered operator; imported history
    and syncs bring the names their source wrote, which may be from before vosbench or
    mistyped, and are taken as they happened. One finding per name and role, with its count
    and a few records as examples: an approval nobody registered can be held to is medium,
    an unregistered maker low. Records of the automatic channels carry a system login, not a person's.
    """
    registered = set(data.operators["login"].astype(str))
    approvers, makers = data.payments["approved_by"].str.strip(), data.manual()["operator"].str.strip()
    roles = (("approved", "medium", approvers[(approvers != "") & ~approvers.isin(registered)]),
             ("entered", "low", makers[~makers.isin(registered)]))
    found = []
    for verb, severity, names in roles:
        for name, group in data.payments.loc[names.index].groupby(names, sort=True):
            shown = group.head(_EXAMPLES)
            examples = ", ".join(f"#{row.id} {row.kind} {data.money_text(row.amount, row.currency)} on {row.account}"
                                 for row in shown.itertuples())
            more = f" and {len(group) - len(shown)} more" if len(group) > len(shown) else ""
            found.append(Finding(
                "unregistered_operator", severity, data.month, tuple(shown["account"]),
                f"{len(group)} record(s) {verb} by {name!r}, who is not a registered operator (imported or synced "
                f"history keeps the names its source wrote): {examples}{more}; register the person "
                "(operators.csv) or note who it was", tuple(shown["id"]), name, int(group["amount"].sum())))
    return found
