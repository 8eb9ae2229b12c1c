"""Benchmark: the look-alike-account control on ledgers of code-named accounts.

    .venv/bin/python bench/lookalikes.py [--accounts 50000 200000] [--deposits 100000]

VOS3000 operators often name accounts by code (``ACC-000123``): every name shares its
first letters with every other, which is what made the old blocked pairwise comparison
quadratic. Each run builds the month's frames in memory (no ledger file), plants one
pair of near-twin company names, runs the check and prints the machine's facts and the
time per size. The check's cost should follow the deposits, not the accounts.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd
from run import machine  # bench/run.py: the machine facts

from vosbench.controls import ControlSettings, lookalikes
from vosbench.controls.context import MonthData
from vosbench.core import periods


def month_data(accounts: int, deposits: int) -> MonthData:
    frame = pd.DataFrame({"account": [f"C{i:07d}" for i in range(accounts)],
                          "name": [f"ACC-{i:06d}" for i in range(accounts)]})
    frame.loc[0, "name"], frame.loc[1, "name"] = "Falcon Voice FZE", "Falcon Voice LLC"
    credited = [(i * 7919) % accounts for i in range(deposits)]
    memos = [f"wire for ACC-{a:06d}, invoice ACC-{(a * 31) % accounts:06d}" for a in credited]
    credited[-1], memos[-1] = 1, "Wire from Falcon Voice FZE"
    names = frame["name"].tolist()
    payments = pd.DataFrame({
        "id": range(1, deposits + 1), "account": [f"C{a:07d}" for a in credited], "name": [names[a] for a in credited],
        "kind": "deposit", "amount": 1_000_000, "reverses_id": pd.array([None] * deposits, dtype="Int64"),
        "memo": memos, "reference": "", "operator": "ann"})
    return MonthData(None, periods.month("2026-10", "UTC"), "UTC", ControlSettings(), payments, frame,
                     pd.DataFrame(), pd.DataFrame(), 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    parser.add_argument("--deposits", type=int, default=100_000)
    args = parser.parse_args()
    print()
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"\n{'accounts':>10}  {'deposits':>10}  {'time':>8}  findings")
    for accounts in args.accounts:
        data = month_data(accounts, args.deposits)
        lookalikes.alike.cache_clear()
        started = time.perf_counter()
        findings = lookalikes.look_alike_accounts(data)
        print(f"{accounts:>10,}  {args.deposits:>10,}  {time.perf_counter() - started:>6.2f} s  {len(findings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
