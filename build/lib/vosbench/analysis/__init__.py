"""Questions asked of the ledger: filters, the explorer's queries, reconciliation, account statements, matching."""
