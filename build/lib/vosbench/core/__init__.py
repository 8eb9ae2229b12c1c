"""The bottom layer: exact money, the domain's codes and records, periods, where the ledger lives, errors.

Nothing here touches a database; every other layer builds on these.
"""
