"""The GL mapping: which general-ledger accounts each kind of movement posts to.

Read strictly from YAML (``parameters/gl-mapping.yaml`` by default): unknown keys are
errors, every payment kind, method, account kind and fee must be mapped, and every
account code used must be in the chart (``accounts``). A rule names the debit and the
credit account for a positive amount; ``clearing`` (the payment method's account) and
``liability`` (the balance owed to the account's holder, by account kind) are chosen
per record, so one rule serves every method and every account kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from vosbench.core import resources, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.core.model import AccountKind, Kind, Method

DEFAULT_FILE = resources.parameters("gl-mapping.yaml")
CLEARING, LIABILITY = "clearing", "liability"
FEES = ("call_fee", "agent_fee", "other_fee")
_SECTIONS = ("accounts", "methods", "liabilities", "kinds", "charges", "xero_tax_rate")
DEFAULT_XERO_TAX_RATE = "Tax Exempt"


class GlMappingError(VosbenchError):
    """A GL mapping file that cannot be used; the message lists every problem and the fix."""


@dataclass(frozen=True)
class Rule:
    """Debit and credit account for a positive amount: a code, ``clearing`` or ``liability``."""

    debit: str
    credit: str


@dataclass(frozen=True)
class GlMapping:
    """A validated mapping; :meth:`sides` resolves a rule for one record."""

    source: Path
    accounts: MappingProxyType  # code -> name
    methods: MappingProxyType  # method -> code
    liabilities: MappingProxyType  # account kind -> code
    kinds: MappingProxyType  # payment kind -> Rule
    charges: MappingProxyType  # fee -> Rule
    xero_tax_rate: str = DEFAULT_XERO_TAX_RATE  # Xero's journal import wants a tax rate name on every line

    def resolve(self, word: str, *, method: str | None, account_kind: str) -> str:
        """The account code ``word`` stands for on a record of ``method`` held by ``account_kind``."""
        if word == CLEARING:
            return self.methods[method]
        if word == LIABILITY:
            return self.liabilities[account_kind]
        return word

    def sides(self, rule: Rule, amount: int, *, method: str | None, account_kind: str) -> tuple[str, str]:
        """(debit code, credit code) for ``amount``: the rule as written when positive, swapped when negative."""
        debit = self.resolve(rule.debit, method=method, account_kind=account_kind)
        credit = self.resolve(rule.credit, method=method, account_kind=account_kind)
        return (debit, credit) if amount >= 0 else (credit, debit)

    def moves_cash(self, kind: str) -> bool:
        """Whether records of ``kind`` post to a clearing account: money that reached a bank or gateway."""
        rule = self.kinds[kind]
        return CLEARING in (rule.debit, rule.credit)

    def name(self, code: str) -> str:
        return self.accounts[code]


def load(path: Path | str | None = None) -> GlMapping:
    """The mapping in ``path`` (default: ``parameters/gl-mapping.yaml``), validated."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        raw = yaml_problem.load(path.read_bytes())
    except FileNotFoundError:
        raise GlMappingError(f"GL mapping {path} does not exist; give --mapping an existing YAML file "
                             f"(the default is {DEFAULT_FILE})") from None
    except yaml.YAMLError as error:
        raise GlMappingError(f"GL mapping {path} is not valid YAML ({yaml_problem.described(error)}); fix the file") from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise GlMappingError(f"GL mapping {path} must be a mapping with sections {', '.join(_SECTIONS)}")
    problems += [f"unknown section {key!r} (allowed: {', '.join(_SECTIONS)})" for key in raw if key not in _SECTIONS]
    accounts = _section(raw, "accounts", problems)
    accounts = {str(code): str(name) for code, name in accounts.items()}
    methods = _codes(raw, "methods", [m.value for m in Method], accounts, problems)
    liabilities = _codes(raw, "liabilities", [k.value for k in AccountKind], accounts, problems)
    kinds = _rules(raw, "kinds", [k.value for k in Kind], accounts, problems)
    charges = _rules(raw, "charges", list(FEES), accounts, problems)
    tax_rate = raw.get("xero_tax_rate", DEFAULT_XERO_TAX_RATE)
    if not isinstance(tax_rate, str) or not tax_rate.strip():
        problems.append("xero_tax_rate must be the name of a tax rate in Xero, e.g. 'Tax Exempt'")
    if problems:
        raise GlMappingError(f"GL mapping {path}: " + "; ".join(problems) + "; fix the file and run again")
    return GlMapping(path, MappingProxyType(accounts), MappingProxyType(methods), MappingProxyType(liabilities),
                     MappingProxyType(kinds), MappingProxyType(charges), xero_tax_rate=str(tax_rate).strip())


def _section(raw: dict, name: str, problems: list[str]) -> dict:
    section = raw.get(name)
    if not isinstance(section, dict) or not section:
        problems.append(f"section {name!r} is missing or empty")
        return {}
    return section


def _codes(raw: dict, name: str, required: list[str], accounts: dict, problems: list[str]) -> dict:
    section = {str(key): str(value) for key, value in _section(raw, name, problems).items()}
    problems += [f"{name}: {key!r} is not one of {', '.join(required)}" for key in section if key not in required]
    problems += [f"{name}: {key!r} is not mapped" for key in required if key not in section]
    problems += [f"{name}.{key}: account {code!r} is not listed under accounts"
                 for key, code in section.items() if accounts and code not in accounts]
    return section


def _rules(raw: dict, name: str, required: list[str], accounts: dict, problems: list[str]) -> dict:
    rules = {}
    for key, value in _section(raw, name, problems).items():
        if key not in required:
            problems.append(f"{name}: {key!r} is not one of {', '.join(required)}")
            continue
        if not isinstance(value, dict) or set(value) != {"debit", "credit"}:
            problems.append(f"{name}.{key} must be {{debit: CODE, credit: CODE}}")
            continue
        rule = Rule(str(value["debit"]), str(value["credit"]))
        for side in (rule.debit, rule.credit):
            if side not in (CLEARING, LIABILITY) and accounts and side not in accounts:
                problems.append(f"{name}.{key}: account {side!r} is not listed under accounts "
                                f"(or use {CLEARING!r} / {LIABILITY!r})")
        if name == "charges" and CLEARING in (rule.debit, rule.credit):
            problems.append(f"charges.{key}: fees have no payment method, so {CLEARING!r} cannot be used")
        rules[key] = rule
    problems += [f"{name}: {key!r} is not mapped" for key in required if key not in rules]
    return rules
