-- controls_commission_base: each agent's and reseller's commission base for one month.
--
-- The base is the call fees of the customers below the account (its own customers, and
-- for a reseller its agents' customers) in the month, read from the kept month totals.
-- Returns: account_id, account, rate (decimal text, NULL when none is configured),
-- call_fees (minor units).
-- Parameters: :month ('YYYY-MM', the ledger's time zone).
SELECT owner.id AS account_id,
       owner.account,
       r.rate,
       COALESCE(SUM(m.call_fee), 0) AS call_fees
  FROM accounts owner
  LEFT JOIN commission_rates r ON r.account_id = owner.id
  JOIN (SELECT c.parent_id AS owner_id, c.id AS customer_id
          FROM accounts c
         WHERE c.kind = 'customer' AND c.parent_id IS NOT NULL
        UNION ALL
        SELECT mid.parent_id, c.id
          FROM accounts c
          JOIN accounts mid ON mid.id = c.parent_id
         WHERE c.kind = 'customer' AND mid.parent_id IS NOT NULL) below ON below.owner_id = owner.id
  LEFT JOIN account_months m ON m.account_id = below.customer_id AND m.month = :month
 WHERE owner.kind IN ('agent', 'reseller')
 GROUP BY owner.id, owner.account, r.rate
