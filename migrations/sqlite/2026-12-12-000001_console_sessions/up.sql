-- Signed-in console sessions, shared by every instance. Only a SHA-256 of
-- the session's random secret is stored (the cookie holds the secret), so a
-- copy of the database signs no one in. `token_id`: the API token the
-- session was opened with (the session ends when the token is revoked);
-- none for an OIDC sign-in.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    actor TEXT NOT NULL,
    token_id TEXT,
    created TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
CREATE INDEX console_sessions_created ON console_sessions (created);
