-- The shared provider runtime keeps network ids in one `handle` column and names the
-- in-between states generically (docs/providers.md); convert rows written before that.
ALTER TABLE akash.deployments ADD COLUMN handle jsonb NOT NULL DEFAULT '{}';
UPDATE akash.deployments SET handle = jsonb_strip_nulls(jsonb_build_object(
    'dseq', dseq, 'gseq', gseq, 'oseq', oseq, 'provider', provider,
    'creating', CASE WHEN state = 'creating' AND dseq IS NULL THEN true END));
UPDATE akash.deployments SET state = CASE state
    WHEN 'creating' THEN 'deploying' WHEN 'bidding' THEN 'deploying' WHEN 'leased' THEN 'placed'
    ELSE state END;
ALTER TABLE akash.deployments DROP COLUMN dseq, DROP COLUMN gseq, DROP COLUMN oseq,
    DROP COLUMN provider;
