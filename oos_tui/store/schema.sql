CREATE TABLE tasks (
  id              INTEGER PRIMARY KEY,
  queue           TEXT NOT NULL,
  task_type       TEXT NOT NULL,
  payload         TEXT NOT NULL DEFAULT '{}',       -- JSON
  status          TEXT NOT NULL,                    -- pending | processing | completed | failed
  priority        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL DEFAULT 10,
  next_attempt_at TEXT,                             -- backoff: 1,2,4,…,120,300 s (max 300)
  worker_id       TEXT,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX idx_tasks_queue_status ON tasks(queue, status);

-- A task whose attempts reach max_attempts becomes status 'failed' and gets a row here.
CREATE TABLE dead_letter (
  id          INTEGER PRIMARY KEY,
  task_id     INTEGER NOT NULL REFERENCES tasks(id),
  queue       TEXT NOT NULL,
  task_type   TEXT NOT NULL,
  payload     TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  error       TEXT NOT NULL,
  worker_id   TEXT,
  failed_at   TEXT NOT NULL
);

-- One row per worker or guarded dependency. A breaker opens after
-- failure_threshold (10) consecutive failures; at retry_at it goes half_open,
-- and one success closes it again.
CREATE TABLE circuit_breakers (
  name                 TEXT PRIMARY KEY,
  state                TEXT NOT NULL,               -- closed | open | half_open
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  failure_threshold    INTEGER NOT NULL DEFAULT 10,
  total_failures       INTEGER NOT NULL DEFAULT 0,
  total_successes      INTEGER NOT NULL DEFAULT 0,
  opened_at            TEXT,
  retry_at             TEXT,
  last_error           TEXT,
  updated_at           TEXT NOT NULL
);

-- The central event collector.
CREATE TABLE events (
  id               TEXT PRIMARY KEY,                -- uuid
  timestamp        TEXT NOT NULL,
  system           TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  severity         TEXT NOT NULL,                   -- debug | info | warning | error | critical
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  data             TEXT NOT NULL,                   -- JSON
  tags             TEXT NOT NULL,                   -- JSON array of strings
  correlation_id   TEXT,
  source_component TEXT,
  duration_ms      INTEGER,
  metadata         TEXT NOT NULL                    -- JSON
);
CREATE INDEX idx_events_timestamp   ON events(timestamp);
CREATE INDEX idx_events_system      ON events(system);
CREATE INDEX idx_events_type        ON events(event_type);
CREATE INDEX idx_events_severity    ON events(severity);
CREATE INDEX idx_events_correlation ON events(correlation_id);
CREATE INDEX idx_events_component   ON events(source_component);

-- Written by the console: every operator action, whatever its outcome.
CREATE TABLE operator_actions (
  id       INTEGER PRIMARY KEY,
  at       TEXT NOT NULL,
  operator TEXT NOT NULL,      -- OS user, with the SSH client address when over SSH
  action   TEXT NOT NULL,      -- retry | retry_all | purge | reset_breaker | backup
  target   TEXT NOT NULL,      -- e.g. dead_letter:42, breaker:worker_1, store
  detail   TEXT NOT NULL,      -- JSON: the rows as they were before, and the result
  outcome  TEXT NOT NULL       -- ok | refused | error
);
