-- accounting_charges: a period's call charges summed per day, currency and account kind.
--
-- Returns one row per charge day (a date in the ledger's time zone), currency and
-- account kind with charges: day, currency, account_kind, call_fee, agent_fee,
-- other_fee (sums, minor units), accounts (how many accounts were charged), calls.
-- Parameters: :first_day, :last_day (inclusive).
SELECT c.day,
       a.currency,
       a.kind AS account_kind,
       SUM(c.call_fee) AS call_fee,
       SUM(c.agent_fee) AS agent_fee,
       SUM(c.other_fee) AS other_fee,
       COUNT(*) AS accounts,
       SUM(c.calls) AS calls
  FROM charges c
  JOIN current_accounts a ON a.id = c.account_id
 WHERE c.day >= :first_day
   AND c.day <= :last_day
 GROUP BY c.day, a.currency, a.kind
 ORDER BY c.day, a.currency, a.kind
