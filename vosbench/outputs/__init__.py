"""What people take away: the monthly audit, papermill reports, charts, spreadsheets, terminal tables."""

STATEMENT_FORMATS = ("pdf", "xlsx", "csv")
"""What a customer statement is written as (:mod:`.customer_statement`); here, where the command
line reads them without loading pandas."""
