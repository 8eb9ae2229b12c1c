-- controls_commission_base: what each agent's and reseller's commission is computed from, for one month.
--
-- sub_account_fees: the customer call fees of the customers below the account (its own
-- customers, and for a reseller its agents' customers); agent_fees: the agent fees
-- VOS3000 charged the account itself at its wholesale rate (CDR agentfee). Both come
-- from the kept month totals; the commission base setting says how they combine.
-- Returns: account_id, account, rate (decimal text, NULL when none is configured),
-- sub_account_fees, agent_fees (minor units).
-- Parameters: :month ('YYYY-MM', the ledger's time zone).
SELECT owner.id AS account_id,
       owner.account,
       r.rate,
       COALESCE(SUM(m.call_fee), 0) AS sub_account_fees,
       COALESCE(MAX(own.agent_fee), 0) AS agent_fees
  FROM current_accounts owner
  LEFT JOIN commission_rates r ON r.account_id = owner.id
  LEFT JOIN account_months own ON own.account_id = owner.id AND own.month = :month
  JOIN (SELECT c.parent_id AS owner_id, c.id AS customer_id
          FROM current_accounts c
         WHERE c.kind = 'customer' AND c.parent_id IS NOT NULL
        UNION ALL
        SELECT mid.parent_id, c.id
          FROM current_accounts c
          JOIN current_accounts mid ON mid.id = c.parent_id
         WHERE c.kind = 'customer' AND mid.parent_id IS NOT NULL) below ON below.owner_id = owner.id
  LEFT JOIN account_months m ON m.account_id = below.customer_id AND m.month = :month
 WHERE owner.kind IN ('agent', 'reseller')
 GROUP BY owner.id, owner.account, r.rate
