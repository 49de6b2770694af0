-- Administration of people and organisations: English names of people, accounts and organisations disabled by
-- an administrator, and passwords an administrator set that their holder must replace. The rules live in
-- bidding/accounts/model.py and bidding/accounts/admin.py.

ALTER TABLE users
    -- Optional: shown to readers of English pages instead of the display name.
    ADD COLUMN display_name_en text CHECK (char_length(display_name_en) BETWEEN 1 AND 100),
    -- Set by a password reset: the next session can do nothing but choose a new password.
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    -- A disabled person cannot sign in, and their sessions and API tokens are refused from the next request.
    ADD COLUMN disabled_at timestamptz;

-- A disabled organisation's people cannot sign in or use their tokens, whatever their own accounts say.
ALTER TABLE organisations ADD COLUMN disabled_at timestamptz;

-- Sign-in throttling counts failures per login and address (see accounts/model.py); the known addresses of a
-- login (where it last signed in) are found with the same index.
CREATE INDEX sign_in_attempts_by_login_and_address ON sign_in_attempts (login, client_ip, at);
