-- accounting_payments: a period's payment records with what an accounting export needs of their account.
--
-- Returns one row per record with :start <= occurred_at < :end (naive UTC), ordered by
-- occurred_at, then id: id, occurred_at, account, name, account_kind, currency, kind,
-- amount (signed: + raises the balance), channel, method, reference, memo, reverses_id.
-- Parameters: :start, :end.
SELECT p.id,
       p.occurred_at,
       a.account,
       a.name,
       a.kind AS account_kind,
       a.currency,
       p.kind,
       p.amount,
       p.channel,
       p.method,
       p.reference,
       p.memo,
       p.reverses_id
  FROM payments p
  JOIN current_accounts a ON a.id = p.account_id
 WHERE p.occurred_at >= :start
   AND p.occurred_at < :end
 ORDER BY p.occurred_at, p.id
