-- controls_month_payments: every payment record of a month, with its account, for the control checks.
--
-- Returns one row per record with :start <= occurred_at < :end (naive UTC), ordered by
-- occurred_at, then id: id, account_id, account, name, account_kind, parent, currency,
-- kind, amount (signed: + raises the balance), occurred_at, recorded_at, operator, channel, method,
-- reference, memo, reason, approved_by, reverses_id, reversed_by_id (the record that
-- reverses this one, if any), balance_after, source (vosbench: entered by a person through vosbench).
-- Parameters: :start, :end.
SELECT p.id,
       p.account_id,
       a.account,
       a.name,
       a.kind AS account_kind,
       COALESCE(parent.account, '') AS parent,
       a.currency,
       p.kind,
       p.amount,
       p.occurred_at,
       p.recorded_at,
       p.operator,
       p.channel,
       p.method,
       p.reference,
       p.memo,
       p.reason,
       p.approved_by,
       p.reverses_id,
       reversal.id AS reversed_by_id,
       p.balance_after,
       p.source
  FROM payments p
  JOIN current_accounts a ON a.id = p.account_id
  LEFT JOIN current_accounts parent ON parent.id = a.parent_id
  LEFT JOIN payments reversal ON reversal.reverses_id = p.id
 WHERE p.occurred_at >= :start
   AND p.occurred_at < :end
 ORDER BY p.occurred_at, p.id
