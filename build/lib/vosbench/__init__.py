"""vosbench: a Jupyter workbench for the payment ledger of a VOS3000 operator."""

__version__ = "0.1.0"
