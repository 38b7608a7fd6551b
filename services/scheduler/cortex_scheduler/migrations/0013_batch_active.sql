-- A batch's jobs that hold a slot: released to the network and not yet ended. Admission
-- asks for them in the transaction that ends each job; walking every job of the batch
-- there made each end cost as much as the batch is large.
CREATE INDEX jobs_batch_active ON jobs.jobs (batch_id)
    WHERE batch_id IS NOT NULL AND released_at IS NOT NULL
      AND status NOT IN ('completed', 'failed', 'cancelled', 'expired');
