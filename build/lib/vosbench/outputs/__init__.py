"""What people take away: the monthly audit, papermill reports, charts, spreadsheets, terminal tables."""
