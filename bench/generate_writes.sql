-- pgbench script: the SQL writes one POST /api/v1/generate makes on its request path, in the
-- same transactions, on the service's own schema (counted from the code: src/http/rate_limit.rs,
-- src/service/generate.rs, src/store/aggregate_store.rs and src/store/pg_repository.rs):
--   1. the rate-limit count (one upsert)
--   2. ReserveCredits on the account: its event and the account's state row, one statement
--   3. GenerateImage on the new job: one event (JobRequested)
--   4. CompleteJob: one event (JobCompleted)
--   5. CaptureCredits on the account: its event and the state row, one statement
-- Each statement is its own transaction, as in the service. Every client works on the same
-- account and key, as the service benchmark does. The read models' writes (done after the
-- answer, batched by the projector) are not in this script. Ids are random in a range wide
-- enough that the runs of one benchmark never draw the same one twice.
\set job random(1, 9000000000000000)
\set seq random(1, 9000000000000000)
INSERT INTO rate_limit_windows (key_id, endpoint, window_start, hits)
VALUES ('key_pgbench', 'generate', (extract(epoch FROM now())::bigint / 60) * 60, 1)
ON CONFLICT (key_id, endpoint, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
RETURNING hits;
WITH state AS (
    UPDATE snapshots SET last_sequence = :seq, current_snapshot = current_snapshot + 1,
           payload = '{"remaining":24000,"reservations":{}}'
     WHERE aggregate_type = 'Account' AND aggregate_id = 'acct_pgbench'
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'Account', 'acct_pgbench', :seq, 'CreditsReserved', '1.0',
       '{"CreditsReserved":{"reservation_id":"res_x","purpose":"job_x","credits":1,"from_balance":1,"overage":0,"remaining":24000,"at":"2026-11-25T12:00:00.000Z"}}', '{}'
  FROM state;
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ('Job', 'job_pgbench_' || :job, 1, 'JobRequested', '1.0',
        '{"JobRequested":{"account_id":"acct_pgbench","source":"api","image":{"sha256":"00","bytes":258,"format":"png","width":1,"height":1},"at":"2026-11-25T12:00:00.000Z"}}', '{}');
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ('Job', 'job_pgbench_' || :job, 2, 'JobCompleted', '1.1',
        '{"JobCompleted":{"results":{"alt_text":"A bright graphic in white tones"},"model":"builtin","tokens":{"input":0,"output":0},"cost_micros":0,"processing_ms":1,"at":"2026-11-25T12:00:00.000Z"}}', '{}');
WITH state AS (
    UPDATE snapshots SET last_sequence = :seq + 1, current_snapshot = current_snapshot + 1,
           payload = '{"remaining":24000,"reservations":{}}'
     WHERE aggregate_type = 'Account' AND aggregate_id = 'acct_pgbench'
    RETURNING 1
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'Account', 'acct_pgbench', :seq + 1, 'CreditsCaptured', '1.0',
       '{"CreditsCaptured":{"reservation_id":"res_x","purpose":"job_x","credits":1,"overage":0,"overage_rate":0,"overage_cost":0,"remaining":24000,"at":"2026-11-25T12:00:00.000Z"}}', '{}'
  FROM state;
