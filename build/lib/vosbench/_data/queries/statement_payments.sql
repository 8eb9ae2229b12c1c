-- statement_payments: one account's payment records in a statement's period, in time order.
--
-- Returns one row per record with :start <= occurred_at < :end (naive UTC), ordered by
-- occurred_at, then id: id, occurred_at, kind, amount (signed: + raises the balance),
-- balance_after (as the source system reported it; NULL if unknown), channel, method,
-- operator, reference, memo, reason, reverses_id.
-- Parameters: :account_id, :start, :end.
SELECT p.id,
       p.occurred_at,
       p.kind,
       p.amount,
       p.balance_after,
       p.channel,
       p.method,
       p.operator,
       p.reference,
       p.memo,
       p.reason,
       p.reverses_id
  FROM payments p
 WHERE p.account_id = :account_id
   AND p.occurred_at >= :start
   AND p.occurred_at < :end
 ORDER BY p.occurred_at, p.id
