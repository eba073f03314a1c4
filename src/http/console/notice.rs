//! Notices shown after a form: the redirect names a code (`?notice=paused`)
//! and only these fixed texts are ever shown, so a link cannot put words
//! on the page.

const NOTICES: [(&str, &str); 18] = [
    ("signed-out", "You are signed out."),
    (
        "target-added",
        "The target was added. Start with a dry run.",
    ),
    ("target-updated", "The target was updated."),
    (
        "target-updated-reconcile",
        "The target was updated. Run it so existing accounts follow the new scope, mapping or matching.",
    ),
    ("target-removed", "The target was removed."),
    (
        "paused",
        "The target is paused: changes wait until it is resumed.",
    ),
    ("resumed", "The target is resumed."),
    ("released", "The target's quarantine has ended."),
    (
        "approved",
        "The held deprovisions were approved and applied.",
    ),
    (
        "rejected",
        "The held deprovisions were rejected: nothing was removed.",
    ),
    ("retrying", "The failure is queued for a retry now."),
    ("retrying-all", "The failures are queued for a retry now."),
    ("discarded", "The failure was discarded."),
    (
        "department-moved",
        "The department was moved, with everything under it.",
    ),
    ("department-renamed", "The department was renamed."),
    ("token-revoked", "The token was revoked."),
    ("subscription-removed", "The subscription was removed."),
    ("session-ended", "Your session ended: sign in again."),
];

pub fn text(code: &str) -> Option<String> {
    NOTICES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| (*text).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_known_codes_show_text() {
        assert_eq!(
            super::text("paused").as_deref(),
            Some("The target is paused: changes wait until it is resumed.")
        );
        assert_eq!(super::text("<script>alert(1)</script>"), None);
    }
}
