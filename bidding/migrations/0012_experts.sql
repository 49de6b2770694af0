-- The expert pool (专家库), the draws that call experts to a tender's committee, their invitations, and the outbox
-- of messages to people outside the platform. The rules live in bidding/experts/model.py and service.py.

CREATE TABLE experts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The expert signs in as this person, who holds the expert role; the name is the person's.
    user_id bigint NOT NULL UNIQUE REFERENCES users (id),
    -- The citizen identity number's first three and last four characters (GB 11643); never the whole number.
    identity_number_masked text NOT NULL CHECK (identity_number_masked ~ '^[1-9][0-9]{2}\*{11}[0-9]{3}[0-9X]$'),
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
    years integer NOT NULL CHECK (years BETWEEN 0 AND 80),
    employer_name text CHECK (char_length(employer_name) BETWEEN 1 AND 200),
    employer_credit_code text CHECK (employer_credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'),
    region text NOT NULL CHECK (char_length(region) BETWEEN 1 AND 100),
    telephone text NOT NULL CHECK (char_length(telephone) BETWEEN 1 AND 40),
    email text CHECK (char_length(email) BETWEEN 3 AND 254),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'retired')),
    suspended_until date,
    suspension_reason text CHECK (char_length(suspension_reason) BETWEEN 1 AND 1000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'suspended') = (suspension_reason IS NOT NULL)),
    CHECK (status = 'suspended' OR suspended_until IS NULL)
);
CREATE INDEX experts_by_employer ON experts (employer_credit_code) WHERE employer_credit_code IS NOT NULL;

CREATE TABLE expert_specialties (
    expert_id bigint NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    code text NOT NULL CHECK (code ~ '^[A-Z][0-9]{2}$'),
    PRIMARY KEY (expert_id, code)
);
CREATE INDEX expert_specialties_by_code ON expert_specialties (code, expert_id);

-- Days on which the expert cannot sit (dates in the platform's time zone).
CREATE TABLE expert_unavailable (
    expert_id bigint NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    day date NOT NULL,
    PRIMARY KEY (expert_id, day)
);

-- Conflicts the expert declares (GP Implementing Regulations art. 9): a former employer (for three years after
-- leaving), an organisation where a close relative works or holds shares. Matched by credit code.
CREATE TABLE expert_conflicts (
    expert_id bigint NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    credit_code text NOT NULL CHECK (credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    relation text NOT NULL CHECK (relation IN ('former_employer', 'relative_employed', 'relative_shareholder')),
    -- The last day the conflict counts; none: as long as it is declared.
    until date,
    PRIMARY KEY (expert_id, credit_code, relation)
);
CREATE INDEX expert_conflicts_by_code ON expert_conflicts (credit_code);

-- One round of a draw for a tender's committee: its committed inputs, the platform's secret, and its outcome.
-- A round whose party did not reveal in time is void, and the next round starts with fresh commitments.
CREATE TABLE expert_draws (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    kind text NOT NULL CHECK (kind IN ('main', 'supplementary')),
    -- Rounds of the same request: 1, then one more per restart.
    round integer NOT NULL DEFAULT 1 CHECK (round >= 1),
    -- The request this round belongs to: its first round's id (itself for round 1).
    request_id bigint REFERENCES expert_draws (id),
    status text NOT NULL CHECK (status IN ('committing', 'revealing', 'drawn', 'void')),
    evaluation_at timestamptz NOT NULL,
    region_rule text NOT NULL CHECK (region_rule IN ('exclude_purchaser_region', 'none')),
    -- [{"specialty", "seats", "reserves"}] as asked, in the committed (scarcest first) order.
    quotas jsonb NOT NULL,
    -- The inputs document (canonical JSON, public) and its SHA-256 as logged.
    inputs bytea NOT NULL,
    inputs_sha256 text NOT NULL CHECK (inputs_sha256 ~ '^[0-9a-f]{64}$'),
    -- Private: the key labels are made with, and the experts the inputs list (labels are recomputed from them).
    label_key bytea NOT NULL CHECK (octet_length(label_key) = 32),
    candidate_ids bigint[] NOT NULL,
    -- Private until no substitution can follow: the platform's secret of the hash chain.
    secret bytea NOT NULL CHECK (octet_length(secret) = 32),
    commitment jsonb NOT NULL,
    one_time_code text CHECK (one_time_code ~ '^[0-9a-f]{64}$'),
    -- When the party awaited must have committed (committing) or revealed (revealing).
    due_at timestamptz NOT NULL,
    groups jsonb,
    void_reason text,
    requested_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    drawn_at timestamptz
);
-- One round in progress per tender; one main request per tender that is not void (a restart voids its round first).
CREATE UNIQUE INDEX expert_draws_one_live ON expert_draws (tender_id) WHERE status IN ('committing', 'revealing');
CREATE UNIQUE INDEX expert_draws_one_main ON expert_draws (tender_id) WHERE kind = 'main' AND status <> 'void';
CREATE INDEX expert_draws_due ON expert_draws (due_at) WHERE status IN ('committing', 'revealing');

-- Each party's commitment to its secret, and the secret once revealed.
CREATE TABLE draw_contributions (
    draw_id bigint NOT NULL REFERENCES expert_draws (id),
    party text NOT NULL CHECK (party ~ '^[a-z][a-z0-9-]{0,39}$'),
    user_id bigint REFERENCES users (id),
    commitment bytea NOT NULL CHECK (octet_length(commitment) = 32),
    secret bytea CHECK (octet_length(secret) = 32),
    committed_at timestamptz NOT NULL DEFAULT now(),
    revealed_at timestamptz,
    PRIMARY KEY (draw_id, party)
);

-- What a drawn round gave: each member and reserve, its specialty and rank, in the draw's order.
CREATE TABLE draw_picks (
    draw_id bigint NOT NULL REFERENCES expert_draws (id),
    label text NOT NULL,
    expert_id bigint NOT NULL REFERENCES experts (id),
    specialty text NOT NULL,
    role text NOT NULL CHECK (role IN ('member', 'reserve')),
    -- Order within the specialty: members first, then reserves, as drawn.
    rank integer NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (draw_id, expert_id),
    UNIQUE (draw_id, specialty, rank)
);

-- A seat's call to one expert. The seat stays; a decline, a time-out or a recusal calls the next reserve of the
-- same specialty for it.
CREATE TABLE expert_invitations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    draw_id bigint NOT NULL REFERENCES expert_draws (id),
    seat integer NOT NULL CHECK (seat >= 1),
    specialty text NOT NULL,
    expert_id bigint NOT NULL REFERENCES experts (id),
    label text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declared', 'declined', 'expired', 'recused')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    answered_at timestamptz,
    declared_at timestamptz,
    reason text CHECK (char_length(reason) <= 1000),
    UNIQUE (tender_id, expert_id)
);
CREATE UNIQUE INDEX expert_invitations_one_per_seat ON expert_invitations (tender_id, seat)
    WHERE status IN ('pending', 'accepted', 'declared');
CREATE INDEX expert_invitations_by_expert ON expert_invitations (expert_id, id DESC);
CREATE INDEX expert_invitations_due ON expert_invitations (expires_at) WHERE status = 'pending';

-- Messages to people outside the platform (SMS, voice, e-mail), written in the transaction of what they announce
-- and sent afterwards by the configured sender.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    channel text NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
    address text NOT NULL CHECK (char_length(address) BETWEEN 1 AND 254),
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
