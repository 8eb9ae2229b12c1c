"""Read-only connectors to a VOS3000 softswitch: its MySQL database, Web API and export files.

Nothing here ever writes to VOS3000 (the one exception, the Web API's Pay call, needs an
explicit confirmation). What is read enters the ledger only through
:func:`vosbench.ledger.write_door.append_batch`, with its source key kept.
"""
