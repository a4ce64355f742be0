-- The generation cache. A job whose result may be reused keeps the key it was requested under
-- (account, image, model and every option, hashed); a job answered from the cache names the
-- job whose result it is. The index serves the cache's lookup: the newest completed job of an
-- account under a key.
ALTER TABLE jobs ADD COLUMN cache_key text;
ALTER TABLE jobs ADD COLUMN cached_from text;
CREATE INDEX jobs_by_cache_key ON jobs (account_id, cache_key, completed_at)
    WHERE cache_key IS NOT NULL;
