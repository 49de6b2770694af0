-- Tenders with their lots, custodians, documents, registrations, questions, amendments, in-app notifications,
-- and the OCDS releases published about them. The rules live in bidding/tenders/model.py.

-- Serial numbers of generated references (GC-2026-00017): gaps are harmless, duplicates impossible.
CREATE SEQUENCE tender_reference_serial;

CREATE TABLE tenders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference text NOT NULL UNIQUE,
    -- The organisation running the tender (an agency, or a purchaser running its own), and the purchaser.
    agency_id bigint NOT NULL REFERENCES organisations (id),
    purchaser_id bigint NOT NULL REFERENCES organisations (id),
    status text NOT NULL CHECK (status IN ('draft', 'published', 'closed', 'opening', 'opened', 'evaluation',
                                           'evaluated', 'publicised', 'awarded', 'failed', 'cancelled')),
    category text NOT NULL CHECK (category IN ('works', 'goods', 'services', 'land_use', 'state_property')),
    procedure text NOT NULL CHECK (procedure IN ('open', 'invited')),
    region text NOT NULL CHECK (char_length(region) BETWEEN 1 AND 100),
    currency text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
    -- The sum of the lots' budgets, kept for searching by amount.
    budget numeric(16, 2) NOT NULL CHECK (budget > 0),
    title_zh text NOT NULL DEFAULT '',
    title_en text NOT NULL DEFAULT '',
    description_zh text NOT NULL DEFAULT '',
    description_en text NOT NULL DEFAULT '',
    documents_from timestamptz NOT NULL,
    questions_until timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    evaluation_at timestamptz NOT NULL,
    committee_size integer NOT NULL CHECK (committee_size >= 5 AND committee_size % 2 = 1),
    specialties jsonb NOT NULL DEFAULT '[]',
    custody_threshold integer NOT NULL CHECK (custody_threshold >= 1),
    -- 0 while a draft, 1 once published, then one more per amendment.
    version integer NOT NULL DEFAULT 0,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    cancelled_at timestamptz,
    cancel_reason text CHECK (char_length(cancel_reason) <= 1000),
    -- Chinese character pairs and words of the titles and descriptions (see model.search_terms).
    search tsvector NOT NULL DEFAULT ''::tsvector,
    CHECK (status = 'draft' OR published_at IS NOT NULL OR status = 'cancelled'),
    CHECK (title_zh <> '' OR title_en <> '')
);
CREATE INDEX tenders_by_terms ON tenders USING gin (search) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_newest ON tenders (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_by_deadline ON tenders (deadline, id) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_by_budget ON tenders (budget, id) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_by_region ON tenders (region) WHERE published_at IS NOT NULL;
CREATE INDEX tenders_by_agency ON tenders (agency_id, updated_at DESC);
CREATE INDEX tenders_by_purchaser ON tenders (purchaser_id, updated_at DESC);

CREATE TABLE tender_lots (
    tender_id bigint NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    number integer NOT NULL CHECK (number >= 1),
    title_zh text NOT NULL DEFAULT '',
    title_en text NOT NULL DEFAULT '',
    budget numeric(16, 2) NOT NULL CHECK (budget > 0),
    bid_security numeric(16, 2) NOT NULL CHECK (bid_security >= 0),
    method text NOT NULL CHECK (method IN ('lowest_price', 'comprehensive')),
    criteria jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (tender_id, number)
);

CREATE TABLE tender_custodians (
    tender_id bigint NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id),
    position integer NOT NULL,
    PRIMARY KEY (tender_id, user_id)
);

-- The bidders invited to an invited (selective) tender: only they may register.
CREATE TABLE tender_invitations (
    tender_id bigint NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (tender_id, organisation_id)
);

-- Each upload of a document name is a new version; older versions stay readable.
CREATE TABLE tender_documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    version integer NOT NULL CHECK (version >= 1),
    sha256 bytea NOT NULL CHECK (octet_length(sha256) = 32),
    size bigint NOT NULL CHECK (size >= 0),
    content_type text NOT NULL,
    uploaded_by bigint NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tender_id, name, version)
);

-- Who downloaded which version when: the record that a bidder had the documents.
CREATE TABLE document_downloads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES tender_documents (id),
    organisation_id bigint REFERENCES organisations (id),
    user_id bigint NOT NULL REFERENCES users (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_downloads_by_document ON document_downloads (document_id, at);

-- A bidder's registration for a tender. Only the tender's own organisations and supervisors see these.
CREATE TABLE tender_registrations (
    tender_id bigint NOT NULL REFERENCES tenders (id),
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    registered_by bigint NOT NULL REFERENCES users (id),
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tender_id, organisation_id)
);
CREATE INDEX tender_registrations_by_organisation ON tender_registrations (organisation_id);

-- Questions are published with the asker's pseudonym (A, B, …, stable per bidder and tender), never its name.
CREATE TABLE tender_questions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    asked_by bigint NOT NULL REFERENCES users (id),
    pseudonym text NOT NULL,
    question text NOT NULL CHECK (char_length(question) BETWEEN 1 AND 2000),
    asked_at timestamptz NOT NULL DEFAULT now(),
    answer text CHECK (char_length(answer) BETWEEN 1 AND 5000),
    answered_by bigint REFERENCES users (id),
    answered_at timestamptz,
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX tender_questions_by_tender ON tender_questions (tender_id, id);

CREATE TABLE tender_amendments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    version integer NOT NULL,
    summary text NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 2000),
    substantive boolean NOT NULL,
    -- {field: {"before": …, "after": …}} over the tender's public view.
    changes jsonb NOT NULL,
    deadline_before timestamptz NOT NULL,
    deadline_after timestamptz NOT NULL,
    deadline_pushed boolean NOT NULL DEFAULT false,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tender_id, version)
);

-- In-app notifications to an organisation (every member sees them), e.g. of an amendment.
CREATE TABLE notifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    kind text NOT NULL,
    tender_id bigint REFERENCES tenders (id),
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz
);
CREATE INDEX notifications_by_organisation ON notifications (organisation_id, id DESC);

-- Every OCDS release published, immutable. Ids follow commit order (inserts take a transaction lock, see
-- bidding/opendata/repo.py), so a reader paging by id never skips a release committed late.
CREATE TABLE ocds_releases (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ocid text NOT NULL,
    release_id text NOT NULL,
    tender_id bigint NOT NULL REFERENCES tenders (id),
    date timestamptz NOT NULL,
    tags text[] NOT NULL,
    -- Stored as written (json, not jsonb: byte for byte, keys in order), so amounts keep their exact decimals
    -- and pages of the feed are served without re-encoding.
    release json NOT NULL,
    UNIQUE (ocid, release_id)
);
