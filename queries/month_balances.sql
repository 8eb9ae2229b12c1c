-- month_balances: each account's month, read from the kept month totals (account_months).
--
-- Returns one row per account in scope, ordered by account number:
--   account_id, account, name, kind, currency   the account as it is now (current_accounts)
--   parent         the parent's account number ('' for a top-level account)
--   opening        the balance before :month: the closing of the account's latest month row
--                  before :month; NULL when the account had no activity before :month
--   deposit, withdrawal, adjustment, bonus, commission, auto_recharge
--                  payments of :month by kind (signed: + raises the balance)
--   call_fee, agent_fee, other_fee
--                  charges of :month's days (positive: they lower the balance)
--   payment_count  payment records in :month
-- The month columns are NULL when the account had no activity in :month (no month row).
-- Months are cut in the ledger's time zone. The opening is one index lookup per account,
-- so the cost follows the number of accounts, not the length of the ledger's history.
-- An account's number never changes (a new version changes its name, parent, limit or
-- currency), so the parent's number is read from accounts itself.
-- Parameters: :month ('YYYY-MM'); scope :everyone (1 = all accounts) / :account_ids.
SELECT a.id AS account_id,
       a.account,
       a.name,
       a.kind,
       COALESCE(parent.account, '') AS parent,
       a.currency,
       (SELECT earlier.closing
          FROM account_months earlier
         WHERE earlier.account_id = a.id
           AND earlier.month < :month
         ORDER BY earlier.month DESC
         LIMIT 1) AS opening,
       m.deposit,
       m.withdrawal,
       m.adjustment,
       m.bonus,
       m.commission,
       m.auto_recharge,
       m.call_fee,
       m.agent_fee,
       m.other_fee,
       m.payment_count
  FROM current_accounts a
  LEFT JOIN accounts parent ON parent.id = a.parent_id
  LEFT JOIN account_months m ON m.account_id = a.id AND m.month = :month
 WHERE (:everyone = 1 OR a.id IN :account_ids)
 ORDER BY a.account
