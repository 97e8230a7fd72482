-- The publisher's jobs: one row per upload, held under a lease by the
-- publisher working on it (see publisher/jobs). The same schema as
-- ../postgres/0001_jobs.up.sql, except that times are INTEGER microseconds
-- since the Unix epoch (UTC) and JSON is TEXT checked with json_valid.

CREATE TABLE jobs (
	id               TEXT    NOT NULL PRIMARY KEY,
	-- Base64url blob ID, known once the blob is encoded.
	blob_id          TEXT,
	-- Unencoded size in bytes.
	size             INTEGER NOT NULL CHECK (size >= 0),
	spool_path       TEXT    NOT NULL,
	-- The upload's options (epochs, permanent, send_object_to, ...).
	options          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
	state            TEXT    NOT NULL CHECK (state IN
		('received', 'encoded', 'registered', 'distributing', 'certified', 'done', 'failed')),
	-- Why the job failed; set exactly when state = 'failed'.
	failure          TEXT    NOT NULL DEFAULT '',
	-- How many times a publisher has taken the job (creation with an owner
	-- counts as the first).
	attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error       TEXT    NOT NULL DEFAULT '',
	registration     TEXT    CHECK (registration IS NULL OR json_valid(registration)),
	certificate      TEXT    CHECK (certificate IS NULL OR json_valid(certificate)),
	-- The answer for the client, kept verbatim.
	result           TEXT    CHECK (result IS NULL OR json_valid(result)),
	lease_owner      TEXT,
	-- Bumped by every acquisition: a fencing token that tells the current
	-- holder from any earlier one.
	lease_token      INTEGER NOT NULL DEFAULT 0,
	lease_expires_at INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	CONSTRAINT jobs_lease_whole CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
	CONSTRAINT jobs_failure_reason CHECK ((state = 'failed') = (failure <> '')),
	CONSTRAINT jobs_finished_unleased CHECK (state NOT IN ('done', 'failed') OR lease_owner IS NULL)
) STRICT;

-- Acquire takes the unfinished job that has waited longest: free ones
-- (no lease, 0) first, then by lease expiry; held jobs sort last.
CREATE INDEX jobs_available ON jobs (coalesce(lease_expires_at, 0), id)
	WHERE state NOT IN ('done', 'failed');
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_blob_id ON jobs (blob_id) WHERE blob_id IS NOT NULL;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX jobs_finished_updated ON jobs (updated_at) WHERE state IN ('done', 'failed');

-- Per storage node progress of a job's metadata and slivers.
CREATE TABLE job_nodes (
	job_id     TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	node_id    TEXT    NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'given_up')),
	attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (job_id, node_id)
) STRICT, WITHOUT ROWID;
