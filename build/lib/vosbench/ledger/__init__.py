"""The ledger: its tables and append-only guards, the one write door, the hash chains, month totals.

:class:`vosbench.ledger.handle.Ledger` is the one way in: opened once from ``--db`` /
``VOSBENCH_DB`` / the embedded default, everything else takes it (or its engine).
"""
