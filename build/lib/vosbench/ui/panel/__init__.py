"""The payment explorer's parts: the filter form, the HTML it shows, the sections below the grid.

:class:`vosbench.ui.explore_panel.PaymentExplorer` puts them together; nothing here queries on its own
initiative or catches errors — the explorer decides when each part runs and reports problems.
"""
