-- controls_entry_requests: when each approved manual entry was first entered, for the dating check.
--
-- An entry at or above its approval threshold is recorded when a supervisor approves it, which can be
-- days after the clerk entered it: the request's time, not the record's, is when a person dated it.
-- Returns one row per approved request that became a record: payment_id, requested_at (naive UTC).
-- Parameters: none.
SELECT d.payment_id,
       r.requested_at
  FROM approval_decisions d
  JOIN approval_requests r ON r.id = d.request_id
 WHERE d.payment_id IS NOT NULL
