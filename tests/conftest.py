"""Shared fixtures: a ledger built from CSV text written inline in the test."""

from __future__ import annotations

import csv
import io
import textwrap

import pytest
from hypothesis import settings

from vosbench.ledger import setup
from vosbench.sources import csv_import

# Property tests assert answers, not speed (speed lives in bench/): no per-example deadline, which a busy
# 2-core machine missed on an empty example (455 ms against hypothesis's 200 ms) and failed a correct test.
settings.register_profile("answers-not-speed", deadline=None)
settings.load_profile("answers-not-speed")

pytest_plugins = ("db_servers", "team_ledger")  # the private MariaDB and PostgreSQL fixtures: mariadb, postgresql,
# vos_url, any_ledger_url; a ledger with a registered team on each: team_url

# Columns a payments table written in a test may leave out; the values are placeholders.
_PAYMENT_DEFAULTS = {"operator": "ops", "channel": "admin", "method": "cash"}


def _with_payment_defaults(text: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0].keys()) if rows else list(csv.reader(io.StringIO(text)))[0]
    header += [name for name in _PAYMENT_DEFAULTS if name not in header]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**_PAYMENT_DEFAULTS, **{k: v for k, v in row.items() if v is not None}})
    return out.getvalue()


@pytest.fixture
def inline_ledger(tmp_path):
    """Build a ledger from CSV text: ``inline_ledger(accounts=..., payments=..., ...)``.

    Texts are dedented; ``payments`` may omit operator, channel and method. Each call
    makes a new SQLite ledger (``name`` keeps several apart) and returns its engine.
    """

    def build(*, accounts: str, payments: str = "", charges: str = "", balances: str = "",
              timezone: str = "Asia/Dubai", name: str = "ledger"):
        folder = tmp_path / name
        folder.mkdir()
        engine = setup.open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}", create=True, timezone=timezone)
        texts = {"accounts.csv": accounts, "payments.csv": payments, "charges.csv": charges,
                 "balances.csv": balances}
        for file_name, text in texts.items():
            text = textwrap.dedent(text).strip()
            if text:
                if file_name == "payments.csv":
                    text = _with_payment_defaults(text)
                (folder / file_name).write_text(text + "\n", encoding="utf-8")
        csv_import.import_paths(engine, [folder], default_tz=timezone)
        return engine

    return build


@pytest.fixture(autouse=True)
def private_state_folder(tmp_path, monkeypatch):
    """The explorer remembers filters under XDG_STATE_HOME: never the tester's own, never shared by tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
