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

-- OpenID Connect sign-ins under way: keyed by a SHA-256 of the secret in
-- the browser's short-lived login cookie, holding what the callback needs
-- (the state it must see again, the nonce the ID token must carry, the PKCE
-- verifier, where to go afterwards). A row lives until its callback, at most
-- ten minutes.
CREATE TABLE console_logins (
    id_hash TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    created TIMESTAMP NOT NULL
);
