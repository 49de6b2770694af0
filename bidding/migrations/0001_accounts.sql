-- Organisations, the people who sign in, their roles, browser sessions, API tokens and sign-in attempts.
-- The rules live in bidding/accounts/model.py; the checks here are the last line, for anything that bypasses it.

CREATE TABLE organisations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('bidder', 'agency', 'purchaser', 'platform')),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    name_en text CHECK (char_length(name_en) BETWEEN 1 AND 200),
    region text NOT NULL CHECK (char_length(region) BETWEEN 1 AND 100),
    -- Unified Social Credit Code (GB 32100-2015); its check character is verified by the model.
    credit_code text UNIQUE CHECK (credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bidders_have_credit_codes CHECK (kind <> 'bidder' OR credit_code IS NOT NULL)
);

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100),
    language text NOT NULL CHECK (language IN ('zh-CN', 'en')),
    organisation_id bigint REFERENCES organisations (id),
    password_hash text NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_by_organisation ON users (organisation_id);

CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('admin', 'agency_staff', 'bidder', 'expert', 'custodian', 'supervisor')),
    PRIMARY KEY (user_id, role)
);

-- A browser session. The cookie holds a random token; only its SHA-256 is kept here.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Refreshed at most once a minute, to spare a write per request.
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    client_ip inet,
    user_agent text CHECK (char_length(user_agent) <= 500)
);
CREATE INDEX open_sessions_by_user ON sessions (user_id) WHERE ended_at IS NULL;

-- A token for programs (offline tools, integrations), shown once when made; only its SHA-256 is kept.
CREATE TABLE api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Every sign-in attempt, for throttling and for supervisors. The login is kept as typed (normalised),
-- whether or not such a user exists.
CREATE TABLE sign_in_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login text NOT NULL CHECK (char_length(login) <= 200),
    client_ip inet,
    succeeded boolean NOT NULL,
    -- The moment of the attempt itself, not of its transaction's start, so attempts order as they happened.
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sign_in_attempts_by_login ON sign_in_attempts (login, at);
CREATE INDEX sign_in_attempts_by_address ON sign_in_attempts (client_ip, at);
