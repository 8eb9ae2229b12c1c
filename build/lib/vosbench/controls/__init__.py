"""Audit controls: checks that turn a month's records into findings with evidence.

``run(engine, month)`` runs every check (:data:`CHECKS`) and returns the findings with
their auditors' annotations; ``settings.load()`` reads the thresholds and limits.
"""

from vosbench.controls.findings import Finding
from vosbench.controls.runner import CHECKS, ControlsResult, run
from vosbench.ledger.policy import DEFAULT_FILE as DEFAULT_SETTINGS
from vosbench.ledger.policy import ControlSettings, SettingsError
from vosbench.ledger.policy import load as load_settings

__all__ = ["CHECKS", "DEFAULT_SETTINGS", "ControlSettings", "ControlsResult", "Finding", "SettingsError", "load_settings",
           "run"]
