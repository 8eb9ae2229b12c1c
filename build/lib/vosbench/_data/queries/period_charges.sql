-- period_charges: charges of a period summed from the raw daily charge rows.
--
-- Returns one row per account with charges in the period:
--   account_id, call_fee, agent_fee, other_fee (sums, positive: they lower the balance).
-- A day's charges are deducted at the end of the day in the ledger's time zone, so the
-- period holds the days :first_day .. :last_day whose end falls inside it (vosbench
-- computes these two days from the period's bounds).
-- Used when the period is cut in a time zone other than the ledger's.
-- Parameters: :first_day, :last_day; scope :everyone (1 = all accounts) / :account_ids.
SELECT c.account_id,
       SUM(c.call_fee) AS call_fee,
       SUM(c.agent_fee) AS agent_fee,
       SUM(c.other_fee) AS other_fee
  FROM charges c
 WHERE c.day >= :first_day
   AND c.day <= :last_day
   AND (:everyone = 1 OR c.account_id IN :account_ids)
 GROUP BY c.account_id
