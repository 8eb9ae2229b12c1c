"""The demo: a deterministic synthetic VOS3000 ledger with planted anomalies and an answer key.

Two resellers, their agents and a few thousand customers over two years: deposits,
withdrawals, adjustments, bonuses, commissions and auto-recharges through every channel,
daily call charges and month-end balances as VOS3000 reports them. The same scale and
seed always give the same ledger (the same chain heads); ``answer_key`` says what was
planted where, so the audit's findings can be checked against it.
"""

from vosbench.sources.demo.build import DEFAULT_TIMEZONE, DemoError, answer_key, build_demo, ensure_demo, open_or_build
from vosbench.sources.demo.scale import DemoScale

__all__ = ["DEFAULT_TIMEZONE", "DemoError", "DemoScale", "answer_key", "build_demo", "ensure_demo",
           "open_or_build"]
