"""Where records come from: CSV imports, VOS3000 (database, Web API, export files), bank files, the demo.

Sources read the world and append through the ledger's write door; they never read reports.
"""
