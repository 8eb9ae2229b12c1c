"""Statements in, matches out: bank, gateway, IVR and crypto records reconciled with the deposits.

- :mod:`~vosbench.statements.imports` reads OFX/QFX, CAMT.053 and CSV/XLSX (through mapping
  profiles) into append-only statement lines;
- :mod:`~vosbench.statements.matcher` pairs lines with payment records, rule by rule;
- :mod:`~vosbench.statements.decisions` records an analyst's confirm/reject/match, append-only;
- :mod:`~vosbench.statements.find` finds a payment anyone claims to have made.
"""
