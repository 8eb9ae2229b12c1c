-- statement_opening: one account's balance at the start of a statement, read from the kept
-- month totals plus the part of the month before the start.
--
-- Returns one row: opening = the closing of the account's latest month row before :month
--   (0 when it had no activity before :month)
--   + its payments with :month_start <= occurred_at < :start
--   − its charges of the days :month_first_day <= day < :start_day.
-- :month is the ledger-time-zone month holding the start, :month_start its first instant
-- (naive UTC) and :month_first_day its first day; :start_day is the ledger-time-zone day of
-- :start, so the charges are those of the days that ended by :start (a day's charges are
-- deducted at its end). The cost follows the month, not the account's history.
-- Parameters: :account_id, :month, :month_start, :month_first_day, :start, :start_day.
SELECT COALESCE((SELECT m.closing
                   FROM account_months m
                  WHERE m.account_id = :account_id
                    AND m.month < :month
                  ORDER BY m.month DESC
                  LIMIT 1), 0)
     + COALESCE((SELECT SUM(p.amount)
                   FROM payments p
                  WHERE p.account_id = :account_id
                    AND p.occurred_at >= :month_start
                    AND p.occurred_at < :start), 0)
     - COALESCE((SELECT SUM(c.call_fee + c.agent_fee + c.other_fee)
                   FROM charges c
                  WHERE c.account_id = :account_id
                    AND c.day >= :month_first_day
                    AND c.day < :start_day), 0) AS opening
