-- GET /v1/jobs?kind=... pages newest first within one kind, as job_status_created_at does for status.
CREATE INDEX job_kind_created_at ON job (kind, created_at, id);
