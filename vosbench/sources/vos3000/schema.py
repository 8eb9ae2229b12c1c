"""The VOS3000 tables vosbench reads, with their real names and column types.

From a ``mysqldump --no-data`` of a real VOS3000 database (see shared VOS3000.md): all
tables MyISAM, utf8_bin; every time is a BIGINT of epoch milliseconds; money is
``double``. Only the columns vosbench reads (plus the ones that make a realistic test
database) are declared — a real database has more, which a SELECT simply ignores.

The same definitions build the tables of the test and benchmark servers
(:func:`create_tables`), so the sync is always tested against the names it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()
# Any: mypy would match a dict[str, str] against every keyword of sa.Table, bool ones included
_OPTIONS: dict[str, Any] = {"mysql_engine": "MyISAM", "mysql_charset": "utf8", "mysql_collate": "utf8_bin"}
Text64 = sa.String(64)
Ms = sa.BigInteger  # epoch milliseconds
Double = mysql.DOUBLE(asdecimal=False)

e_customer = sa.Table(
    "e_customer", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account", Text64, nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("type", sa.Integer, nullable=False),  # 0 normal, 1 phone card, 2 clearing
    sa.Column("money", Double, nullable=False),  # current balance
    sa.Column("limitmoney", Double, nullable=False),  # overdraft limit
    sa.Column("todayconsumption", Double, nullable=False),
    sa.Column("locktype", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("starttime", Ms, nullable=False),
    sa.Column("validtime", Ms, nullable=False),
    sa.Column("lastupdatetime", Ms, nullable=False),
    sa.Column("memo", sa.String(255), nullable=False),
    sa.Column("timezoneid", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.Integer),  # the parent agent's id [guess]
    sa.Column("feerategroup_id", sa.Integer),
    **_OPTIONS,
)

e_payhistory = sa.Table(
    "e_payhistory", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customeraccount", Text64, nullable=False, index=True),
    sa.Column("customername", sa.String(128), nullable=False),
    sa.Column("paymoney", Double, nullable=False),
    sa.Column("time", Ms, nullable=False, index=True),
    sa.Column("customermoney", Double, nullable=False),  # balance AFTER the record
    sa.Column("memo", sa.String(255), nullable=False),
    sa.Column("paytype", sa.Integer, nullable=False),
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("loginname", Text64, nullable=False),
    sa.Column("agentaccount", Text64, nullable=False, index=True),
    sa.Column("agentname", sa.String(128), nullable=False),
    **_OPTIONS,
)

e_consumption = sa.Table(
    "e_consumption", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account", Text64, nullable=False, index=True),
    sa.Column("accountname", sa.String(128), nullable=False),
    sa.Column("money", Double, nullable=False),
    sa.Column("remainmoney", Double, nullable=False),  # balance after
    sa.Column("time", Ms, nullable=False, index=True),
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("comsumptionname", sa.String(128), nullable=False),  # (sic)
    sa.Column("agentaccount", Text64, nullable=False),
    sa.Column("agentname", sa.String(128), nullable=False),
    sa.Column("memo", sa.String(255), nullable=False),
    **_OPTIONS,
)

_CDR_COLUMNS = (
    ("flowno", sa.BigInteger), ("customeraccount", Text64), ("customername", sa.String(128)),
    ("agentaccount", Text64), ("agentname", sa.String(128)), ("callere164", Text64), ("calleee164", Text64),
    ("starttime", Ms), ("stoptime", Ms), ("holdtime", sa.Integer), ("feetime", sa.Integer),
    ("fee", Double), ("tax", Double), ("suitefee", Double), ("suitefeetime", sa.Integer),
    ("agentfee", Double), ("agenttax", Double), ("agentsuitefee", Double), ("incomefee", Double),
    ("incometax", Double), ("calllevel", sa.Integer), ("billingmode", sa.Integer), ("cdrlevel", sa.Integer),
    ("agentcdr_id", sa.BigInteger), ("endreason", sa.Integer), ("enddirection", sa.Integer),
)
CDR_COLUMN_NAMES = tuple(name for name, _type in _CDR_COLUMNS)

ROLLING_CDR = "e_cdr"
_DAILY_CDR = re.compile(r"e_cdr_(\d{8})")


def cdr_table(name: str = ROLLING_CDR) -> sa.Table:
    """``e_cdr`` or a daily ``e_cdr_YYYYMMDD`` table: identical DDL, PK ``flowno``."""
    if name in metadata.tables:
        return metadata.tables[name]
    columns = [sa.Column(column, kind, primary_key=column == "flowno", autoincrement=False,
                         nullable=column == "agentcdr_id") for column, kind in _CDR_COLUMNS]
    return sa.Table(name, metadata, *columns, sa.Index(f"ix_{name}_stoptime", "stoptime"), **_OPTIONS)


def daily_cdr_name(day: date) -> str:
    return f"e_cdr_{day:%Y%m%d}"


def daily_cdr_day(name: str) -> date | None:
    """The day of a daily CDR table's name, or None for any other table."""
    match = _DAILY_CDR.fullmatch(name)
    if not match:
        return None
    try:
        return date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))
    except ValueError:
        return None


e_reportcustomerfee = sa.Table(
    "e_reportcustomerfee", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("date", Ms, nullable=False, index=True),  # the day's first instant
    sa.Column("customeraccount", Text64, nullable=False),
    sa.Column("customername", sa.String(128), nullable=False),
    sa.Column("agentaccount", Text64, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("fee", Double, nullable=False),
    sa.Column("tax", Double, nullable=False),
    sa.Column("feetime", sa.Integer, nullable=False),
    sa.Column("suitefee", Double, nullable=False),
    **_OPTIONS,
)

BASE_TABLES = (e_customer, e_payhistory, e_consumption, e_reportcustomerfee)


def create_tables(connection: sa.Connection, cdr_days: Iterable[date] = ()) -> None:
    """Create the VOS3000 tables (and daily CDR tables) in a test or benchmark database."""
    for table in (*BASE_TABLES, cdr_table(), *(cdr_table(daily_cdr_name(day)) for day in cdr_days)):
        table.create(connection, checkfirst=True)
