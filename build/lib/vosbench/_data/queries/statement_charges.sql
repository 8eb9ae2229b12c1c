-- statement_charges: one account's daily charges over a range of days, in day order.
--
-- Returns one row per charge day with :first_day <= day < :end_day (days of the ledger's
-- time zone): day, call_fee, agent_fee, other_fee (positive: they lower the balance) and
-- calls. A day's charges are deducted at the end of that day, so a statement holds the days
-- that end inside it.
-- Parameters: :account_id, :first_day, :end_day.
SELECT c.day,
       c.call_fee,
       c.agent_fee,
       c.other_fee,
       c.calls
  FROM charges c
 WHERE c.account_id = :account_id
   AND c.day >= :first_day
   AND c.day < :end_day
 ORDER BY c.day
