-- The publisher's jobs: one row per upload, held under a lease by the
-- publisher working on it (see publisher/jobs).

CREATE TABLE jobs (
	id               text        PRIMARY KEY,
	-- Base64url blob ID, known once the blob is encoded.
	blob_id          text,
	-- Unencoded size in bytes.
	size             bigint      NOT NULL CHECK (size >= 0),
	spool_path       text        NOT NULL,
	-- The upload's options (epochs, permanent, send_object_to, ...).
	options          jsonb       NOT NULL DEFAULT '{}',
	state            text        NOT NULL CHECK (state IN
		('received', 'encoded', 'registered', 'distributing', 'certified', 'done', 'failed')),
	-- Why the job failed; set exactly when state = 'failed'.
	failure          text        NOT NULL DEFAULT '',
	-- How many times a publisher has taken the job (creation with an owner
	-- counts as the first).
	attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error       text        NOT NULL DEFAULT '',
	registration     jsonb,
	certificate      jsonb,
	-- The answer for the client, kept verbatim (json, not jsonb, keeps the
	-- bytes and the key order).
	result           json,
	lease_owner      text,
	-- Bumped by every acquisition: a fencing token that tells the current
	-- holder from any earlier one.
	lease_token      bigint      NOT NULL DEFAULT 0,
	lease_expires_at timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT jobs_lease_whole CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
	CONSTRAINT jobs_failure_reason CHECK ((state = 'failed') = (failure <> '')),
	CONSTRAINT jobs_finished_unleased CHECK (state NOT IN ('done', 'failed') OR lease_owner IS NULL)
);

-- Acquire takes the unfinished job that has waited longest: free ones
-- (no lease, -infinity) first, then by lease expiry; held jobs sort last.
CREATE INDEX jobs_available ON jobs ((coalesce(lease_expires_at, '-infinity')), id)
	WHERE state NOT IN ('done', 'failed');
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_blob_id ON jobs (blob_id) WHERE blob_id IS NOT NULL;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX jobs_finished_updated ON jobs (updated_at) WHERE state IN ('done', 'failed');

-- Per storage node progress of a job's metadata and slivers.
CREATE TABLE job_nodes (
	job_id     text        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	node_id    text        NOT NULL,
	state      text        NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'given_up')),
	attempts   integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error text        NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (job_id, node_id)
);
