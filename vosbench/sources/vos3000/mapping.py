"""How VOS3000's codes become vosbench's words: a validated configuration.

The documented defaults live in ``vosbench/sources/vos3000/mapping.yaml`` (read it for what
each code means and which readings are guesses); a user passes their own copy with
``--mapping FILE``. Unknown keys, kinds, methods or rules are errors naming the key and
the allowed values, so a typo never silently changes how money is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from vosbench.core import yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.core.model import Channel, Kind, Method

DEFAULT_FILE = Path(__file__).resolve().parent / "mapping.yaml"
SIGN_RULES = ("credit", "debit", "as_signed")
CHARGE_SOURCES = ("cdr", "report")
_KEYS = {"payment_types", "other_type", "payment_modes", "other_mode", "channel", "parent_column",
         "currency", "charges_from"}


class MappingError(VosbenchError, ValueError):
    """A mapping file that cannot be used; the message names the key and the fix."""


@dataclass(frozen=True)
class TypeRule:
    """What one e_payhistory.type becomes: a kind, a sign rule and (for adjustments) a reason."""

    kind: Kind
    sign: str
    reason: str

    def signed(self, paymoney: int) -> int:
        """The movement this rule reads from ``paymoney`` (minor units)."""
        if self.sign == "credit":
            return abs(paymoney)
        if self.sign == "debit":
            return -abs(paymoney)
        return paymoney


@dataclass(frozen=True)
class Mapping:
    payment_types: dict[int, TypeRule]
    other_type: TypeRule
    payment_modes: dict[int, Method]
    other_mode: Method
    channel: Channel
    parent_column: str
    currency: str
    charges_from: str
    sha256: str  # of the file it came from, for provenance
    path: str

    def type_rule(self, code: int) -> TypeRule:
        rule = self.payment_types.get(code)
        if rule is not None:
            return rule
        return TypeRule(self.other_type.kind, self.other_type.sign, self.other_type.reason.format(type=code))

    def method(self, paytype: int) -> Method:
        return self.payment_modes.get(paytype, self.other_mode)

    def provenance(self) -> dict:
        return {"mapping_file": self.path, "mapping_sha256": self.sha256, "charges_from": self.charges_from}


def _rule(where: str, value) -> TypeRule:
    if not isinstance(value, dict) or set(value) - {"kind", "sign", "reason"} or "kind" not in value:
        raise MappingError(f"{where}: give {{kind: ..., sign: credit|debit|as_signed, reason: ...}}")
    sign = value.get("sign", "as_signed")
    if sign not in SIGN_RULES:
        raise MappingError(f"{where}.sign: {sign!r} is not one of {', '.join(SIGN_RULES)}")
    return TypeRule(Kind.parse(str(value["kind"]), field=f"{where}.kind"), sign, str(value.get("reason") or ""))


def _code(where: str, key) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise MappingError(f"{where}: {key!r} is not a numeric VOS3000 code") from None


def load(path: Path | str | None = None) -> Mapping:
    """Read and validate a mapping file (the documented defaults when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MappingError(f"mapping file {path}: {error.strerror}; give an existing YAML file") from None
    try:
        data = yaml_problem.load(raw) or {}
    except yaml.YAMLError as error:
        raise MappingError(f"mapping file {path} is not valid YAML ({yaml_problem.described(error)}); fix the file") from None
    if not isinstance(data, dict):
        raise MappingError(f"mapping file {path}: expected a YAML mapping of settings")
    unknown = set(data) - _KEYS
    if unknown:
        raise MappingError(f"mapping file {path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                           f"allowed: {', '.join(sorted(_KEYS))}")
    missing = _KEYS - set(data)
    if missing:
        raise MappingError(f"mapping file {path}: missing key(s) {', '.join(sorted(missing))}; "
                           f"copy {DEFAULT_FILE.name} and edit it")
    try:
        types = {_code(f"payment_types.{k}", k): _rule(f"payment_types.{k}", v)
                 for k, v in (data["payment_types"] or {}).items()}
        modes = {_code(f"payment_modes.{k}", k): Method.parse(str(v), field=f"payment_modes.{k}")
                 for k, v in (data["payment_modes"] or {}).items()}
        mapping = Mapping(
            payment_types=types, other_type=_rule("other_type", data["other_type"]), payment_modes=modes,
            other_mode=Method.parse(str(data["other_mode"]), field="other_mode"),
            channel=Channel.parse(str(data["channel"]), field="channel"),
            parent_column=str(data["parent_column"]), currency=str(data["currency"]).upper(),
            charges_from=str(data["charges_from"]), sha256=hashlib.sha256(raw).hexdigest(), path=str(path))
    except MappingError:
        raise
    except ValueError as error:
        raise MappingError(f"mapping file {path}: {error}") from None
    if mapping.charges_from not in CHARGE_SOURCES:
        raise MappingError(f"mapping file {path}: charges_from {mapping.charges_from!r} is not one of "
                           f"{', '.join(CHARGE_SOURCES)}")
    if len(mapping.currency) != 3 or not mapping.currency.isalpha():
        raise MappingError(f"mapping file {path}: currency {mapping.currency!r} is not a three-letter code")
    return mapping
