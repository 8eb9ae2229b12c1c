-- month_closings_before: the kept month closings of some accounts before a month.
--
-- Returns one row per account and month with activity before :month: account_id, month
-- ('YYYY-MM' in the ledger's time zone) and closing (the balance after that month).
-- A month without activity has no row: its closing is the latest earlier one.
-- Used only for the few accounts whose difference is carried over, to say since when.
-- Parameters: :month; scope :everyone (1 = all accounts) / :account_ids.
SELECT m.account_id,
       m.month,
       m.closing
  FROM account_months m
 WHERE m.month < :month
   AND (:everyone = 1 OR m.account_id IN :account_ids)
