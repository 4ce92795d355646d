//! Signed links to the review page, and CSRF tokens for its forms.
//!
//! A link token is `EXPIRY.MAC`: the expiry as Unix seconds and an HMAC-SHA256 (truncated to
//! 128 bits, hex) over the scope, the message id and the expiry, keyed by a random secret
//! kept in the ledger's `kv` table. The secret is created on first use and never leaves the
//! ledger, so only someone who can read the ledger can mint links. Tampering with the id or
//! the expiry breaks the MAC; an old link stops working at its expiry.

use anyhow::Result;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use sha2::Sha256;

use crate::hex::hex;
use crate::ledger::Ledger;

/// The `kv` key of the link secret.
const SECRET_KEY: &str = "review.link_secret";
/// Bytes of MAC kept in a token (128 bits).
const MAC_BYTES: usize = 16;

/// Characters left as they are in a path segment or query value.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link has no token")]
    Missing,
    #[error("the link token is malformed")]
    Malformed,
    #[error("the link token does not match this message (was the link changed?)")]
    BadSignature,
    #[error("the link has expired")]
    Expired,
}

/// What a token grants access to.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The review page of one message.
    Message(&'a str),
    /// The listing of all pending drafts.
    Listing,
}

/// Signs and checks tokens with the ledger's secret.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(***)")
    }
}

impl LinkSigner {
    /// The signer of this ledger, creating its secret on first use. Two processes racing to
    /// create it agree on whichever was stored first.
    pub fn from_ledger(ledger: &Ledger) -> Result<LinkSigner> {
        if let Some(hex) = ledger.kv_get(SECRET_KEY)? {
            return Ok(LinkSigner { key: hex.into_bytes() });
        }
        let fresh = random_hex(32);
        ledger.conn().execute(
            "INSERT OR IGNORE INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![SECRET_KEY, fresh, crate::ledger::now()],
        )?;
        let stored = ledger.kv_get(SECRET_KEY)?.unwrap_or(fresh);
        Ok(LinkSigner { key: stored.into_bytes() })
    }

    /// A signer with a fixed key (tests).
    pub fn with_key(key: &[u8]) -> LinkSigner {
        LinkSigner { key: key.to_vec() }
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for p in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") never sign alike.
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        mac
    }

    fn scope_parts(scope: Scope<'_>) -> [&str; 2] {
        match scope {
            Scope::Message(id) => ["message", id],
            Scope::Listing => ["listing", ""],
        }
    }

    /// A token for `scope` valid until `expires` (Unix seconds).
    pub fn token(&self, scope: Scope<'_>, expires: i64) -> String {
        let [kind, id] = Self::scope_parts(scope);
        let exp = expires.to_string();
        let tag = self.mac(&["link", kind, id, &exp]).finalize().into_bytes();
        format!("{exp}.{}", hex(&tag[..MAC_BYTES]))
    }

    /// Checks a token for `scope` at time `now` (Unix seconds); returns its expiry.
    pub fn verify(&self, scope: Scope<'_>, token: Option<&str>, now: i64) -> Result<i64, TokenError> {
        let token = token.filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
        let (exp, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        if exp.is_empty() || exp.len() > 12 || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::Malformed);
        }
        let expires: i64 = exp.parse().map_err(|_| TokenError::Malformed)?;
        let tag = unhex(tag).filter(|t| t.len() == MAC_BYTES).ok_or(TokenError::Malformed)?;
        let [kind, id] = Self::scope_parts(scope);
        self.mac(&["link", kind, id, exp]).verify_truncated_left(&tag).map_err(|_| TokenError::BadSignature)?;
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(expires)
    }

    /// The CSRF token of a form: bound to the browser session (a random cookie) and the page.
    pub fn csrf(&self, session: &str, page: &str) -> String {
        let tag = self.mac(&["csrf", session, page]).finalize().into_bytes();
        hex(&tag[..MAC_BYTES])
    }

    /// True when `given` is the CSRF token of `session` and `page` (constant-time compare).
    pub fn check_csrf(&self, session: &str, page: &str, given: &str) -> bool {
        if session.is_empty() {
            return false;
        }
        match unhex(given) {
            Some(tag) if tag.len() == MAC_BYTES => self.mac(&["csrf", session, page]).verify_truncated_left(&tag).is_ok(),
            _ => false,
        }
    }

    /// `{base}/m/{id}?t={token}`: the review page of one message, valid for `ttl_hours`.
    pub fn message_url(&self, base: &str, message_id: &str, ttl_hours: u64, now: i64) -> String {
        let token = self.token(Scope::Message(message_id), expiry(now, ttl_hours));
        format!("{}{}", base.trim_end_matches('/'), message_path(message_id, &token))
    }

    /// `{base}/?t={token}`: the listing, valid for `ttl_hours`.
    pub fn listing_url(&self, base: &str, ttl_hours: u64, now: i64) -> String {
        let token = self.token(Scope::Listing, expiry(now, ttl_hours));
        format!("{}/?t={}", base.trim_end_matches('/'), encode(&token))
    }
}

/// The path and query of a message page: `/m/{id}?t={token}`.
pub fn message_path(message_id: &str, token: &str) -> String {
    format!("/m/{}?t={}", encode(message_id), encode(token))
}

/// Percent-encodes a path segment or query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, URL_SAFE).to_string()
}

fn expiry(now: i64, ttl_hours: u64) -> i64 {
    now.saturating_add((ttl_hours.min(24 * 366) as i64) * 3600)
}

/// Now as Unix seconds.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random hex string of `bytes` bytes (session ids).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_token_opens_its_own_message_until_it_expires() {
        let s = LinkSigner::with_key(b"k");
        let t = s.token(Scope::Message("m1"), NOW + 60);
        assert_eq!(s.verify(Scope::Message("m1"), Some(&t), NOW), Ok(NOW + 60));
        assert_eq!(s.verify(Scope::Message("m1"), Some(&t), NOW + 60), Err(TokenError::Expired));
        assert_eq!(s.verify(Scope::Message("m2"), Some(&t), NOW), Err(TokenError::BadSignature));
        assert_eq!(s.verify(Scope::Listing, Some(&t), NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let s = LinkSigner::with_key(b"k");
        let t = s.token(Scope::Message("m1"), NOW + 60);
        let (exp, tag) = t.split_once('.').unwrap();
        let later = format!("{}.{tag}", exp.parse::<i64>().unwrap() + 3600);
        assert_eq!(s.verify(Scope::Message("m1"), Some(&later), NOW), Err(TokenError::BadSignature));
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(s.verify(Scope::Message("m1"), Some(&flipped), NOW), Err(TokenError::BadSignature));
        for junk in ["", "abc", "12.zz", "-5.00", "1.", ".ab"] {
            assert!(s.verify(Scope::Message("m1"), Some(junk), NOW).is_err(), "{junk}");
        }
        assert_eq!(s.verify(Scope::Message("m1"), None, NOW), Err(TokenError::Missing));
        let other = LinkSigner::with_key(b"other");
        assert_eq!(other.verify(Scope::Message("m1"), Some(&t), NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn csrf_is_bound_to_session_and_page() {
        let s = LinkSigner::with_key(b"k");
        let c = s.csrf("sess", "m1");
        assert!(s.check_csrf("sess", "m1", &c));
        assert!(!s.check_csrf("sess2", "m1", &c));
        assert!(!s.check_csrf("sess", "m2", &c));
        assert!(!s.check_csrf("", "m1", &s.csrf("", "m1")));
        assert!(!s.check_csrf("sess", "m1", "nothex"));
    }

    #[test]
    fn the_ledger_keeps_one_secret() {
        let ledger = Ledger::open_in_memory().unwrap();
        let a = LinkSigner::from_ledger(&ledger).unwrap();
        let b = LinkSigner::from_ledger(&ledger).unwrap();
        let t = a.token(Scope::Message("m1"), NOW + 60);
        assert!(b.verify(Scope::Message("m1"), Some(&t), NOW).is_ok());
        let url = a.message_url("http://h:1/", "m1", 1, NOW);
        assert!(url.starts_with("http://h:1/m/m1?t="), "{url}");
    }
}
