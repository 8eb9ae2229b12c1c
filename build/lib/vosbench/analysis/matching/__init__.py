"""Statement lines matched with the deposits: bank, gateway, IVR and crypto money against the records.

- :mod:`~vosbench.analysis.matching.matcher` pairs lines with payment records, rule by rule;
- :mod:`~vosbench.analysis.matching.decisions` records an analyst's confirm/reject/match, append-only;
- :mod:`~vosbench.analysis.matching.find_payment` finds a payment anyone claims to have made.
"""
