-- period_snapshots: the balance each account last reported in a period, and what the
-- ledger moved between that report and the end of the period.
--
-- Returns one row per account that reported a balance with :start < as_of <= :end (the
-- latest such report): account_id, as_of (naive UTC), balance. For a report taken before
-- the period's end (as_of < :end) also, else NULL:
--   payments_after     sum of payments with as_of <= occurred_at < :end (a payment at the
--                      report's instant is after it, as one at a month's first instant is
--                      after the month-end report taken then)
--   charges_from_day   charges of the days from the report's UTC date to :last_charge_day
--   charge_on_day      charges of the report's UTC date
--   day_before         the account's last charge day before the report's UTC date
--   charge_day_before  the charges of that day
-- A day's charges are deducted at the end of the day in the ledger's time zone, which
-- portable SQL cannot compute; vosbench settles the exact sum from the UTC-date sum and
-- the two boundary days.
-- Parameters: :start, :end (naive UTC), :last_charge_day;
-- scope :everyone (1 = all accounts) / :account_ids.
WITH latest AS (
    SELECT s.account_id, MAX(s.as_of) AS as_of
      FROM balance_snapshots s
     WHERE s.as_of > :start
       AND s.as_of <= :end
       AND (:everyone = 1 OR s.account_id IN :account_ids)
     GROUP BY s.account_id
),
reported AS (
    SELECT s.account_id, s.as_of, s.balance
      FROM latest
      JOIN balance_snapshots s ON s.account_id = latest.account_id AND s.as_of = latest.as_of
)
SELECT r.account_id,
       r.as_of,
       r.balance,
       CASE WHEN r.as_of < :end THEN
           (SELECT COALESCE(SUM(p.amount), 0)
              FROM payments p
             WHERE p.account_id = r.account_id
               AND p.occurred_at >= r.as_of
               AND p.occurred_at < :end)
       END AS payments_after,
       CASE WHEN r.as_of < :end THEN
           (SELECT COALESCE(SUM(c.call_fee + c.agent_fee + c.other_fee), 0)
              FROM charges c
             WHERE c.account_id = r.account_id
               AND c.day >= DATE(r.as_of)
               AND c.day <= :last_charge_day)
       END AS charges_from_day,
       CASE WHEN r.as_of < :end THEN
           (SELECT c.call_fee + c.agent_fee + c.other_fee
              FROM charges c
             WHERE c.account_id = r.account_id
               AND c.day = DATE(r.as_of))
       END AS charge_on_day,
       CASE WHEN r.as_of < :end THEN
           (SELECT MAX(c.day)
              FROM charges c
             WHERE c.account_id = r.account_id
               AND c.day < DATE(r.as_of))
       END AS day_before,
       CASE WHEN r.as_of < :end THEN
           (SELECT c.call_fee + c.agent_fee + c.other_fee
              FROM charges c
             WHERE c.account_id = r.account_id
               AND c.day < DATE(r.as_of)
             ORDER BY c.day DESC
             LIMIT 1)
       END AS charge_day_before
  FROM reported r
