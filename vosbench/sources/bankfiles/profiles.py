"""Mapping profiles: how a CSV or XLSX export from a bank, gateway, IVR platform or wallet reads.

A profile is a YAML file: which columns hold the date, amount, reference, counterparty
and description; the date format; the decimal separator; the sign convention (and a
column it must agree with, such as PayPal's Balance Impact); which rows to skip; the
source's fee schedule. Unknown keys are errors (a typo must not be
ignored silently) and money is quoted decimal text.

Real exports of one source differ in their columns (a gateway's column picker, an older
download without a newer column), so a role may name several headers, the first one a
file has being read (``reference: [source_id, charge_id]``). The columns that decide money,
its sign, its currency or a line's identity (date, amount, credit, debit, direction,
currency, id) must be in the file; a file without one of the others
(:data:`OPTIONAL_ROLES`) reads it as empty and says so in a warning. The shipped profiles live in
``parameters/statement-profiles/``; ``--profile`` takes one of their names or a path.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from vosbench.core import money, resources, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.sources.bankfiles import outgoing
from vosbench.sources.bankfiles.lines import check_channel

PROFILES_DIR = resources.parameters("statement-profiles")

_COLUMN_ROLES = ("date", "value_date", "amount", "credit", "debit", "reference", "counterparty", "account",
                 "description", "currency", "id", "direction")
_REQUIRED_ROLES = ("date",)
OPTIONAL_ROLES = ("value_date", "reference", "counterparty", "account", "description")
"""Roles a file may lack (read as empty, with a warning): none of them moves money or tells lines apart."""
_KEYS = ("name", "description", "channel", "source", "delimiter", "encoding", "skip_rows", "skip_when",
         "columns", "date_format", "decimal_separator", "thousands_separator", "sign", "sign_check", "currency", "fee",
         "sheet", "reads", "outgoing")
_READS = ("table", "statement")
"""``table``: a CSV/XLSX export read through ``columns``; ``statement``: rules only, for OFX/CAMT/MT940 files."""


class ProfileError(VosbenchError, ValueError):
    """A profile that cannot be used; the message names the profile, the key and the fix."""


@dataclass(frozen=True)
class FeeSchedule:
    """What a source keeps of each payment: ``percent`` of it plus ``fixed``, to within ``tolerance``."""

    percent: Decimal = Decimal(0)
    fixed: int = 0
    tolerance: int = 0

    @functools.lru_cache(maxsize=65_536)  # noqa: B019  (few small frozen schedules; payments repeat amounts)
    def fee(self, gross: int) -> int:
        """The fee on a payment of ``gross`` minor units, rounded half-even to the minor unit."""
        return int((Decimal(gross) * self.percent / 100).to_integral_value()) + self.fixed

    @property
    def charged(self) -> bool:
        return bool(self.percent or self.fixed)


@dataclass(frozen=True)
class SignCheck:
    """A column that says again which way each row's money went (PayPal's Balance Impact: Credit or Debit).

    The amount keeps its own sign; a row whose column says the other way, or neither, is refused
    with both values: which one is right cannot be told, and a sign is never guessed.
    """

    column: str
    credit_values: tuple[str, ...]  # lower case: the column's values for money in …
    debit_values: tuple[str, ...]  # … and for money out


@dataclass(frozen=True)
class Profile:
    name: str
    channel: str
    source: str
    columns: dict[str, tuple[str, ...]]  # role -> the headers that hold it, the first one a file has being read
    description: str = ""
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    skip_rows: int = 0
    skip_when: dict[str, list[str]] = field(default_factory=dict)  # column -> values (case-folded) whose rows are skipped
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    sign: str = "plus_is_in"  # plus_is_in, plus_is_out, or direction: a column says credit/debit
    credit_values: tuple[str, ...] = ()  # with sign direction: the column's values for money in
    debit_values: tuple[str, ...] = ()  # and for money out; any other value is refused, never taken as either
    sign_check: SignCheck | None = None  # a column each amount's sign must agree with
    currency: str = "USD"
    fee: FeeSchedule = FeeSchedule()
    sheet: str = ""
    reads: str = "table"
    outgoing: tuple = ()  # rules telling money out that is not a customer's (:mod:`.outgoing`)


def available() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def load(name_or_path: str) -> Profile:
    """A shipped profile by name, or a profile YAML file by path."""
    path = Path(name_or_path)
    if path.is_file() and path.suffix.lower() not in (".yaml", ".yml"):
        raise ProfileError(f"profile {name_or_path!r}: a file, but no profile; give a profile YAML file (.yaml or "
                           f".yml) or one of {', '.join(available())}")
    if not (path.suffix.lower() in (".yaml", ".yml") and path.is_file()):
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ProfileError(f"profile {name_or_path!r}: no such profile; use one of {', '.join(available())} "
                           "or the path of a profile YAML file")
    try:
        data = yaml_problem.load(path.read_bytes())
    except yaml.YAMLError as error:
        raise ProfileError(f"profile {path}: not valid YAML ({yaml_problem.described(error)})") from None
    return from_mapping(data, where=str(path))


def from_mapping(data, *, where: str = "profile") -> Profile:
    """Validate a profile given as a mapping (as read from YAML)."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping of keys such as name, channel, columns")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}")
    reads = data.get("reads", "table")
    if reads not in _READS:
        raise ProfileError(f"{where}: reads must be table (a CSV/XLSX export) or statement (rules for OFX/CAMT/MT940)")
    try:
        rules = outgoing.rules_from(data.get("outgoing"), where)
    except ValueError as error:
        raise ProfileError(str(error)) from None
    if reads == "statement":
        return _statement_rules(data, rules, where)
    for key in ("name", "channel", "columns"):
        if key not in data:
            raise ProfileError(f"{where}: {key} is required")
    columns = _columns(data["columns"], where)
    bad_roles = sorted(set(columns) - set(_COLUMN_ROLES))
    if bad_roles:
        raise ProfileError(f"{where}: unknown column role(s) {', '.join(bad_roles)}; use {', '.join(_COLUMN_ROLES)}")
    missing = [role for role in _REQUIRED_ROLES if role not in columns]
    if "amount" not in columns and not {"credit", "debit"} <= set(columns):
        missing.append("amount (or credit and debit)")
    if missing:
        raise ProfileError(f"{where}: columns must name {', '.join(missing)}")
    try:
        channel = check_channel(data["channel"])
    except ValueError as error:
        raise ProfileError(f"{where}: {error}") from None
    sign, credit_values, debit_values = _sign(data.get("sign", "plus_is_in"), columns, where)
    decimal_separator, thousands_separator = _separators(data, where)
    if "currency" not in columns and "currency" not in data:  # never assumed: a file in EUR is not in USD
        raise ProfileError(f"{where}: say the file's currency (currency: EUR) or map a currency column")
    skip_when = data.get("skip_when") or {}
    if not isinstance(skip_when, dict) or not all(isinstance(v, list) for v in skip_when.values()):
        raise ProfileError(f"{where}: skip_when maps a column header to the list of values whose rows are skipped")
    return Profile(
        name=str(data["name"]), channel=channel, source=str(data.get("source") or data["name"]),
        columns=columns, description=str(data.get("description", "")),
        delimiter=str(data.get("delimiter", ",")), encoding=str(data.get("encoding", "utf-8-sig")),
        skip_rows=_count(data.get("skip_rows", 0), "skip_rows", where),
        skip_when={k: [str(v).strip().casefold() for v in values] for k, values in skip_when.items()},
        date_format=str(data.get("date_format", "%Y-%m-%d")),
        decimal_separator=decimal_separator, thousands_separator=thousands_separator,
        sign=sign, credit_values=credit_values, debit_values=debit_values,
        sign_check=_sign_check(data.get("sign_check"), where),
        currency=str(data.get("currency", "")).upper(),
        fee=_fee(data.get("fee") or {}, where), sheet=str(data.get("sheet", "")), outgoing=rules)


def _statement_rules(data: dict, rules: tuple, where: str) -> Profile:
    """A profile for OFX/CAMT/MT940 files: no columns to map, only the channel, fee and outgoing rules."""
    table_only = sorted(set(data) & {"columns", "delimiter", "encoding", "skip_rows", "skip_when", "date_format",
                                     "decimal_separator", "thousands_separator", "sign", "sign_check", "currency",
                                     "sheet"})
    if table_only:
        raise ProfileError(f"{where}: a reads: statement profile maps no columns; remove {', '.join(table_only)}")
    for key in ("name", "channel"):
        if key not in data:
            raise ProfileError(f"{where}: {key} is required")
    try:
        channel = check_channel(data["channel"])
    except ValueError as error:
        raise ProfileError(f"{where}: {error}") from None
    return Profile(name=str(data["name"]), channel=channel, source=str(data.get("source") or data["name"]),
                   columns={}, description=str(data.get("description", "")),
                   fee=_fee(data.get("fee") or {}, where), reads="statement", outgoing=rules)


def _columns(value, where: str) -> dict[str, tuple[str, ...]]:
    """The ``columns`` mapping: each role to its header, or to a list of headers in order of preference."""
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: columns maps a role ({', '.join(_COLUMN_ROLES)}) to a column header, or to a "
                           "list of headers of which the first one a file has is read")
    columns: dict[str, tuple[str, ...]] = {}
    for role, headers in value.items():
        listed = [headers] if isinstance(headers, str) else headers
        if not isinstance(listed, list) or not listed:
            raise ProfileError(f"{where}: columns.{role} is {headers!r}; give a column header, or a list of them")
        for item in listed:
            if not isinstance(item, str) or not item.strip():
                raise ProfileError(f"{where}: columns.{role} holds {item!r}, not a column header; write the header's "
                                   "text (quote it if it looks like a number)")
        columns[str(role)] = tuple(header.strip() for header in listed)
    return columns


def _count(value, key: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProfileError(f"{where}: {key} must be a whole number of rows, 0 or more (got {value!r})")
    return value


def _sign(value, columns: dict, where: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    if value in ("plus_is_in", "plus_is_out"):
        return value, (), ()
    if isinstance(value, dict) and set(value) == {"credit_values", "debit_values"} and "direction" in columns and all(
            isinstance(value[key], list) and value[key] for key in value):
        return ("direction", *_credit_and_debit(value, "sign", where))
    raise ProfileError(f"{where}: sign must be plus_is_in, plus_is_out, or {{credit_values: [...], debit_values: [...]}} "
                       "with a direction column: its values for money in and for money out (any other value is refused)")


def _credit_and_debit(value: dict, key: str, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A column's values for money in and for money out, lower case; a value in both is refused."""
    credit, debit = (tuple(str(v).strip().lower() for v in value[name]) for name in ("credit_values", "debit_values"))
    if not set(credit).isdisjoint(debit):
        raise ProfileError(f"{where}: {key}: a value cannot be both credit and debit ({', '.join(set(credit) & set(debit))})")
    return credit, debit


def _sign_check(value, where: str) -> SignCheck | None:
    """``sign_check: {column: Balance Impact, credit_values: [Credit], debit_values: [Debit]}``, or None."""
    if value is None:
        return None
    if not (isinstance(value, dict) and set(value) == {"column", "credit_values", "debit_values"}
            and isinstance(value["column"], str) and value["column"].strip()
            and all(isinstance(value[key], list) and value[key] for key in ("credit_values", "debit_values"))):
        raise ProfileError(f"{where}: sign_check is {{column: HEADER, credit_values: [...], debit_values: [...]}}: a "
                           "column saying which way each row's money went, and its values for money in and for money out")
    return SignCheck(value["column"].strip(), *_credit_and_debit(value, "sign_check", where))


_SEPARATORS = {"decimal_separator": (".", ","), "thousands_separator": ("", ",", ".", " ", "'")}


def _separators(data: dict, where: str) -> tuple[str, str]:
    """The decimal and thousands separators: known characters, and never the same one (12.50 must not be 1250)."""
    decimal, thousands = (str(data.get(key, default)) for key, default in (("decimal_separator", "."),
                                                                           ("thousands_separator", "")))
    for key, value in (("decimal_separator", decimal), ("thousands_separator", thousands)):
        if value not in _SEPARATORS[key]:
            raise ProfileError(f"{where}: {key} {value!r} must be one of {', '.join(map(repr, _SEPARATORS[key]))}")
    if decimal == thousands:
        raise ProfileError(f"{where}: decimal_separator and thousands_separator are both {decimal!r}; "
                           "an amount could then be read a hundred times too large")
    return decimal, thousands


_PERCENT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?")
"""A fee percentage as a profile writes it: up to three whole digits and six places."""


def _fee(value, where: str) -> FeeSchedule:
    if not isinstance(value, dict) or set(value) - {"percent", "fixed", "tolerance"}:
        raise ProfileError(f"{where}: fee takes percent, fixed and tolerance (quoted decimals)")
    percent_text = _quoted(value.get("percent", "0"), "fee.percent", where).strip()
    if not _PERCENT.fullmatch(percent_text):  # no exponent, NaN or sign: "1e1" is never ten per cent
        raise ProfileError(f"{where}: fee.percent {value.get('percent')!r} is not a percentage written as decimal "
                           "digits; write it like '2.9'")
    percent = Decimal(percent_text)
    try:
        fixed = money.to_minor(_quoted(value.get("fixed", "0"), "fee.fixed", where), field="fee.fixed")
        tolerance = money.to_minor(_quoted(value.get("tolerance", "0"), "fee.tolerance", where),
                                   field="fee.tolerance")
    except money.MoneyError as error:
        raise ProfileError(f"{where}: {error}") from None
    if percent < 0 or fixed < 0 or tolerance < 0:
        raise ProfileError(f"{where}: fee percent, fixed and tolerance cannot be negative")
    return FeeSchedule(percent, fixed, tolerance)


def _quoted(value, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {key} must be quoted decimal text such as '0.30' (got {value!r}): "
                           "money in YAML is never a float")
    return value
