"""The controls' settings: approval thresholds per currency and kind, and each check's limits.

Read strictly from YAML (``parameters/controls.yaml`` by default): unknown keys are
errors, money is quoted decimal text turned into minor units once, shares are decimal
text. One frozen object is shared by maker-checker at entry and the checks afterwards.
Its approval thresholds only seed a new ledger: from then on the ledger holds them
(:mod:`vosbench.ledger.thresholds`), and a file's may only lower them, at entry and in the audit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from vosbench.core import money, resources, yaml_problem
from vosbench.core.errors import VosbenchError
from vosbench.core.model import Channel, Kind

DEFAULT_FILE = resources.parameters("controls.yaml")


class SettingsError(VosbenchError, ValueError):
    """A controls file or value that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class ControlSettings:
    manual_channels: tuple[str, ...] = ("admin", "import")
    approval_thresholds: dict = field(default_factory=dict)  # currency -> kind -> minor units
    link_pattern: str = r"(ticket\s*#?\s*\d+|#\d{3,}|\bDSP-\d+|\bCDR\s*#?\s*\d{6,}|\bflow\s*no\.?\s*\d+)"
    duplicate_window_minutes: int = 10
    just_under_share: Decimal = Decimal("0.05")
    round_unit: int = 1_000 * money.UNIT
    round_cluster_min: int = 3
    round_cluster_days: int = 7
    concentration_share: Decimal = Decimal("0.80")
    concentration_min_credits: int = 5
    concentration_chance: Decimal = Decimal("0.001")
    benford_min_sample: int = 100
    benford_mad_limit: Decimal = Decimal("0.015")
    benford_desk_ratio: Decimal = Decimal("1.5")
    working_hours_grace_minutes: int = 30
    back_dated_days: int = 3
    name_similarity: Decimal = Decimal("0.90")
    commission_tolerance: int = 100  # minor units
    commission_base: str = "sub_account_fees"  # a key of vosbench.controls.commission.BASES

    def threshold(self, currency: str, kind: str) -> int | None:
        """The approval threshold of ``kind`` entries in ``currency`` (minor units), None if none."""
        return self.approval_thresholds.get(currency, {}).get(str(kind))

    def is_manual(self, channel: str) -> bool:
        return str(channel) in self.manual_channels

    def has_link(self, *texts: str) -> bool:
        """True when any of ``texts`` holds a ticket id or CDR flow number."""
        return any(re.search(self.link_pattern, text or "", re.IGNORECASE) for text in texts)


_MONEY = ("round_unit", "commission_tolerance")
COMMISSION_BASES = ("sub_account_fees", "agent_margin", "agent_fees")  # see vosbench.controls.commission
_SHARES = ("just_under_share", "concentration_share", "concentration_chance", "benford_mad_limit",
           "name_similarity")
_RATIOS = ("benford_desk_ratio",)
_COUNTS = ("duplicate_window_minutes", "round_cluster_min", "round_cluster_days", "concentration_min_credits",
           "benford_min_sample", "working_hours_grace_minutes", "back_dated_days")


def load(path: Path | str | None = None) -> ControlSettings:
    """The settings in ``path`` (default :data:`DEFAULT_FILE`).

    The installed file's approval thresholds are left out: they only seed a new ledger
    (:func:`seed_settings`), after which the ledger's govern, raised or lowered by a supervisor
    (:mod:`vosbench.ledger.thresholds`). A file a person names keeps its thresholds, which may
    only lower the ledger's (at entry and in the audit).
    """
    path = Path(path) if path else DEFAULT_FILE
    settings = _read(path)
    return replace(settings, approval_thresholds={}) if path.resolve() == DEFAULT_FILE.resolve() else settings


def seed_settings() -> ControlSettings:
    """The installed file's settings in full: its approval thresholds seed a ledger that has none."""
    return _read(DEFAULT_FILE)


def _read(path: Path) -> ControlSettings:
    """The settings in ``path``, read strictly."""
    try:
        raw = yaml_problem.load(path.read_bytes()) or {}
    except OSError as error:
        raise SettingsError(f"controls file {path}: cannot be read ({error.strerror}); "
                            f"give an existing file or leave it out for {DEFAULT_FILE.name}") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"controls file {path} is not valid YAML: {yaml_problem.described(error)}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"controls file {path}: expected key: value lines at the top level")
    return from_mapping(raw, origin=str(path))


def for_entries(path: Path | str | None = None) -> ControlSettings:
    """The settings a person's entry is held to on this machine: the ledger's approval thresholds, never loosened.

    Otherwise the person recording would choose the rule that holds their own entry. A file
    ``path`` (``record --controls``, the matching workbench's ``controls``) may only make approval
    stricter: maker-checker takes the lower of its thresholds and the ledger's, refuses a file
    threshold above the ledger's naming it (:func:`vosbench.ledger.thresholds.threshold`), and the
    database refuses an entry above the ledger's whatever a file says. The file's other settings
    are the audit's (``vosbench controls --controls``) and do not apply to an entry.
    """
    installed = load()
    if not path:
        return installed
    return replace(installed, approval_thresholds=load(path).approval_thresholds)


def from_mapping(raw: dict, *, origin: str = "controls settings") -> ControlSettings:
    """Validate a mapping of settings; every bad key or value is named with the fix."""
    known = {f.name for f in fields(ControlSettings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"{origin}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    values: dict = {}
    for key, value in raw.items():
        where = f"{origin}: {key}"
        if key in _MONEY:
            values[key] = _money(value, where)
        elif key in _SHARES:
            values[key] = _share(value, where)
        elif key in _RATIOS:
            values[key] = _ratio(value, where)
        elif key in _COUNTS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError(f"{where}: {value!r} is not a whole number ≥ 0; write e.g. {key}: 10")
            values[key] = value
        elif key == "manual_channels":
            if not isinstance(value, list):
                raise SettingsError(f"{where}: give a list of channels, e.g. [admin, import]")
            values[key] = tuple(str(_word(Channel, c, where)) for c in value)
        elif key == "commission_base":
            if value not in COMMISSION_BASES:
                raise SettingsError(f"{where}: {value!r} is not a commission base; use one of "
                                    f"{', '.join(COMMISSION_BASES)}")
            values[key] = value
        elif key == "approval_thresholds":
            values[key] = _thresholds(value, where)
        elif key == "link_pattern":
            try:
                re.compile(str(value))
            except re.error as error:
                raise SettingsError(f"{where}: not a regular expression ({error})") from None
            values[key] = str(value)
    return ControlSettings(**values)


def _word(vocabulary, value, where: str):
    try:
        return vocabulary.parse(str(value), field=where)
    except ValueError as error:
        raise SettingsError(str(error)) from None


def _money(value, where: str) -> int:
    if not isinstance(value, str):
        raise SettingsError(f"{where}: money must be quoted decimal text, e.g. \"10000.00\" (got {value!r})")
    try:
        amount = money.to_minor(value, field=where)
    except money.MoneyError as error:
        raise SettingsError(str(error)) from None
    if amount <= 0:
        raise SettingsError(f"{where}: {value!r} must be greater than zero")
    return amount


def _ratio(value, where: str) -> Decimal:
    return _decimal(value, where, Decimal(1), None, "a factor of at least 1", "1.5")


def _share(value, where: str) -> Decimal:
    return _decimal(value, where, Decimal(0), Decimal(1), "a share between 0 and 1", "0.05")


def _decimal(value, where: str, low: Decimal, high: Decimal | None, meaning: str, example: str) -> Decimal:
    """``value`` as an exact Decimal in [low, high], or a SettingsError saying what to write."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if (isinstance(value, bool) or number is None or not number.is_finite() or number < low
            or (high is not None and number > high)):
        raise SettingsError(f"{where}: {value!r} is not {meaning}; write e.g. \"{example}\"")
    return number


def _thresholds(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise SettingsError(f"{where}: give currency: {{kind: \"amount\"}}, e.g. USD: {{deposit: \"10000.00\"}}")
    thresholds = {}
    for currency, kinds in value.items():
        if not isinstance(kinds, dict) or not re.fullmatch(r"[A-Z]{3}", str(currency)):
            raise SettingsError(f"{where}: {currency!r} must be a 3-letter currency code holding kind: \"amount\"")
        thresholds[str(currency)] = {
            str(_word(Kind, kind, f"{where}.{currency}")): _money(amount, f"{where}.{currency}.{kind}")
            for kind, amount in kinds.items()}
    return thresholds
