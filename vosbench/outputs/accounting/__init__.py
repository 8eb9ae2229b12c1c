"""Accounting exports: a month of the ledger as files QuickBooks, Xero and Sage import.

Two kinds of file come out of one month. *Bank feeds* (:mod:`.bankfeeds`) list the money
that reached a bank or gateway, one file per currency and clearing account, in each
package's bank-statement import layout. The *journal* (:mod:`.journal`) posts every
payment and every day's fees to general-ledger accounts chosen by a YAML mapping
(:mod:`.mapping`), double-entry and balanced per entry and per currency, written as a
general CSV and in the packages' journal import layouts (:mod:`.layouts`).
:func:`~.writer.export_accounting` writes them.
"""

TARGETS = ("quickbooks", "xero", "sage", "journal")
"""The packages an export is written for (``journal``: the general journal only); here, where the
command line reads them without loading the writers."""
