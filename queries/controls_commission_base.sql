-- controls_commission_base: what each agent's and reseller's commission is computed from, for one month.
--
-- sub_account_fees: the customer call fees of the customers below the account (its own
-- customers, and for a reseller its agents' customers) that hold the account's currency;
-- agent_fees: the agent fees VOS3000 charged the account itself at its wholesale rate (CDR
-- agentfee). Both come from the kept month totals; the commission base setting says how they
-- combine. Fees in another currency are never added to them: other_currency_accounts counts
-- the customers below in another currency that were charged call fees in the month.
-- Returns: account_id, account, currency, rate (decimal text, NULL when none is configured),
-- sub_account_fees, agent_fees (minor units), other_currency_accounts.
-- Parameters: :month ('YYYY-MM', the ledger's time zone).
SELECT owner.id AS account_id,
       owner.account,
       owner.currency,
       r.rate,
       COALESCE(SUM(CASE WHEN below.currency = owner.currency THEN m.call_fee END), 0) AS sub_account_fees,
       COALESCE(MAX(own.agent_fee), 0) AS agent_fees,
       COALESCE(SUM(CASE WHEN below.currency <> owner.currency AND m.call_fee <> 0 THEN 1 END), 0)
           AS other_currency_accounts
  FROM current_accounts owner
  LEFT JOIN commission_rates r ON r.account_id = owner.id
  LEFT JOIN account_months own ON own.account_id = owner.id AND own.month = :month
  JOIN (SELECT c.parent_id AS owner_id, c.id AS customer_id, c.currency
          FROM current_accounts c
         WHERE c.kind = 'customer' AND c.parent_id IS NOT NULL
        UNION ALL
        SELECT mid.parent_id, c.id, c.currency
          FROM current_accounts c
          JOIN current_accounts mid ON mid.id = c.parent_id
         WHERE c.kind = 'customer' AND mid.parent_id IS NOT NULL) below ON below.owner_id = owner.id
  LEFT JOIN account_months m ON m.account_id = below.customer_id AND m.month = :month
 WHERE owner.kind IN ('agent', 'reseller')
 GROUP BY owner.id, owner.account, owner.currency, r.rate
