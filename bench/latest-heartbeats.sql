-- The fleet page's "newest heartbeat per target", two ways, on 200 targets x
-- 2,000 heartbeats (400,000 rows) in a database migrated by `vigil migrate`:
--   createdb -h 127.0.0.1 -U postgres vigil_plan
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_plan npm run vigil -- migrate
--   psql -h 127.0.0.1 -U postgres -d vigil_plan -f bench/latest-heartbeats.sql
select format('create table heartbeats_p%s partition of heartbeats for values from (%L) to (%L)', to_char(d, 'YYYYMMDD'), d, d + interval '1 day')
from generate_series(current_date - 1, current_date + 1, interval '1 day') d \gexec
insert into targets (name, url) select 't' || i, 'http://x/metrics' from generate_series(1, 200) i;
insert into heartbeats (target_id, time, up, duration_seconds)
select t.id, now() - (n * interval '15 seconds'), true, 0.01 from targets t, generate_series(1, 2000) n;
analyze;
\timing on
-- DISTINCT ON: reads every heartbeat in the window (no skip scan before PostgreSQL 18).
select count(*) from (select distinct on (target_id) * from heartbeats where time > now() - interval '2 days' order by target_id, time desc) x;
-- Lateral join (latestHeartbeats): one primary-key probe per target.
select count(*) from (select h.* from targets t cross join lateral (
  select * from heartbeats where target_id = t.id and time > now() - interval '2 days' order by time desc limit 1) h) x;
