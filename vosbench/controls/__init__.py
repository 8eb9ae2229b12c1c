"""Audit controls: checks that turn a month's records into findings with evidence.

``run(engine, month)`` runs every check (:data:`CHECKS`) and returns the findings with
their auditors' annotations; ``load_settings()`` reads the thresholds and limits.
The names below are loaded on first use, so that a command which only needs a module of
this package (its severities, say) does not pay for pandas and every check.
"""

from importlib import import_module

_EXPORTS = {
    "Finding": ("vosbench.controls.findings", "Finding"),
    "CHECKS": ("vosbench.controls.checks", "CHECKS"),
    "ControlsResult": ("vosbench.controls.runner", "ControlsResult"),
    "run": ("vosbench.controls.runner", "run"),
    "DEFAULT_SETTINGS": ("vosbench.ledger.policy", "DEFAULT_FILE"),
    "ControlSettings": ("vosbench.ledger.policy", "ControlSettings"),
    "SettingsError": ("vosbench.ledger.policy", "SettingsError"),
    "load_settings": ("vosbench.ledger.policy", "load"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vosbench.controls' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(import_module(module), attribute)
