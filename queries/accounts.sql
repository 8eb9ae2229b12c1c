-- accounts: every account of the ledger with its parent's account number.
--
-- Returns one row per account: account_id, account (the number users match on), name,
-- kind (customer, agent, reseller), parent_id, parent (the parent's account number, ''
-- for a top-level account) and currency.
-- Parameters: none.
SELECT a.id AS account_id,
       a.account,
       a.name,
       a.kind,
       a.parent_id,
       COALESCE(parent.account, '') AS parent,
       a.currency
  FROM current_accounts a
  LEFT JOIN current_accounts parent ON parent.id = a.parent_id
 ORDER BY a.account
