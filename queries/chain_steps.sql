-- chain_steps: the payment records whose reported balance_after is checked for a period,
-- each with the charges deducted since the account's record before it.
--
-- Returns one row per payment record with :start <= occurred_at < :end, plus the lead-in
-- of each account that has records in the period (before_period = 1): its last record
-- before :start with a known balance_after (the anchor) and the records after the anchor
-- up to :start; when no earlier balance is known, just its last record before :start.
-- Rows are ordered per account by occurred_at, then id.
--   id, account_id, account, occurred_at (naive UTC), kind, amount, balance_after,
--   before_period
--   previous_id             the account's record just before this one (NULL if none)
--   charges_since_previous  charges of the days from the previous record's UTC date up
--                           to the day before this record's UTC date; from the account's
--                           first charge day when there is no previous record; 0 for the
--                           first row of a lead-in
--   charge_on_day           charges of this record's UTC date
--   day_before              the account's last charge day before this record's UTC date
--   charge_day_before       the charges of that day
-- A day's charges are deducted at the end of the day in the ledger's time zone, which
-- portable SQL cannot compute; vosbench settles the exact charges between two records
-- from the UTC-date sum and the boundary days.
-- Parameters: :start, :end (naive UTC), :earliest_day (a day before any charge);
-- scope :everyone (1 = all accounts) / :account_ids.
WITH period_records AS (
    SELECT p.id, p.account_id
      FROM payments p
     WHERE p.occurred_at >= :start
       AND p.occurred_at < :end
       AND (:everyone = 1 OR p.account_id IN :account_ids)
),
anchors AS (
    SELECT r.account_id,
           COALESCE(
               (SELECT p.occurred_at
                  FROM payments p
                 WHERE p.account_id = r.account_id
                   AND p.occurred_at < :start
                   AND p.balance_after IS NOT NULL
                 ORDER BY p.occurred_at DESC
                 LIMIT 1),
               (SELECT MAX(p.occurred_at)
                  FROM payments p
                 WHERE p.account_id = r.account_id
                   AND p.occurred_at < :start)) AS anchor_at
      FROM (SELECT DISTINCT account_id FROM period_records) r
),
lead_in AS (
    SELECT p.id
      FROM anchors a
      JOIN payments p ON p.account_id = a.account_id
     WHERE p.occurred_at >= a.anchor_at
       AND p.occurred_at < :start
),
steps AS (
    SELECT p.id, p.account_id, p.occurred_at, p.kind, p.amount, p.balance_after,
           CASE WHEN p.occurred_at < :start THEN 1 ELSE 0 END AS before_period,
           LAG(p.id) OVER (PARTITION BY p.account_id ORDER BY p.occurred_at, p.id) AS previous_id,
           LAG(p.occurred_at) OVER (PARTITION BY p.account_id ORDER BY p.occurred_at, p.id) AS previous_at
      FROM (SELECT id FROM period_records
            UNION ALL
            SELECT id FROM lead_in) chained
      JOIN payments p ON p.id = chained.id
)
SELECT s.id,
       s.account_id,
       a.account,
       s.occurred_at,
       s.kind,
       s.amount,
       s.balance_after,
       s.before_period,
       s.previous_id,
       CASE WHEN s.before_period = 1 AND s.previous_id IS NULL THEN 0 ELSE
           (SELECT COALESCE(SUM(c.call_fee + c.agent_fee + c.other_fee), 0)
              FROM charges c
             WHERE c.account_id = s.account_id
               AND c.day >= COALESCE(DATE(s.previous_at), :earliest_day)
               AND c.day < DATE(s.occurred_at))
       END AS charges_since_previous,
       (SELECT c.call_fee + c.agent_fee + c.other_fee
          FROM charges c
         WHERE c.account_id = s.account_id
           AND c.day = DATE(s.occurred_at)) AS charge_on_day,
       (SELECT MAX(c.day)
          FROM charges c
         WHERE c.account_id = s.account_id
           AND c.day < DATE(s.occurred_at)) AS day_before,
       (SELECT c.call_fee + c.agent_fee + c.other_fee
          FROM charges c
         WHERE c.account_id = s.account_id
           AND c.day < DATE(s.occurred_at)
         ORDER BY c.day DESC
         LIMIT 1) AS charge_day_before
  FROM steps s
  JOIN current_accounts a ON a.id = s.account_id
 ORDER BY s.account_id, s.occurred_at, s.id
