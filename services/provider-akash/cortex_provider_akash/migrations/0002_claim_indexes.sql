-- Claims walk these in order and stop at their limit, however long the backlog is.
CREATE INDEX deployments_cancel_open ON akash.deployments (created_at)
    WHERE state <> 'closed' AND cancel_requested;
