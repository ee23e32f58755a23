//! Which session cookies one request's layers serve, so two of them never write the same cookie.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use crate::storage::AbstractStorage;

/// The session cookies one request's layers claimed, so two layers with the same cookie name (or the
/// same tag) on one route are found out instead of overwriting each other's cookie. An adapter keeps
/// one per request and calls [`claim`](Self::claim) for each of its layers.
#[derive(Clone, Default)]
pub struct CookieClaims {
    // Most routes have one session layer: its claim is held in place and names its cookie through the
    // storage, so the common request allocates nothing here (this runs on every request, even on
    // routes that never touch the session).
    first: Option<Claim>,
    more: Vec<Claim>,
}

#[derive(Clone)]
struct Claim {
    storage: Arc<dyn AbstractStorage>,
    tag: TypeId,
}

impl Claim {
    fn cookie_name(&self) -> &str {
        self.storage.config().cookie().name()
    }
}

/// The claimed cookie names (they are public: every response that sets one names it).
impl fmt::Debug for CookieClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.claims().map(Claim::cookie_name)).finish()
    }
}

/// Two session layers of one route claim the same cookie name or the same tag.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "two session layers on this route use the cookie {name:?} (or one handler tag): each would overwrite the \
     other's cookie; give each storage its own cookie name and tag"
)]
pub struct ClaimConflict {
    /// The cookie name.
    pub name: String,
}

impl CookieClaims {
    /// Records that a layer with the tag `tag` serves `storage`'s cookie on this request.
    pub fn claim(&mut self, storage: &Arc<dyn AbstractStorage>, tag: TypeId) -> Result<(), ClaimConflict> {
        let name = storage.config().cookie().name();
        if self.claims().any(|claimed| claimed.cookie_name() == name || claimed.tag == tag) {
            return Err(ClaimConflict { name: name.to_owned() });
        }
        let claim = Claim { storage: Arc::clone(storage), tag };
        match self.first {
            None => self.first = Some(claim),
            Some(_) => self.more.push(claim),
        }
        Ok(())
    }

    fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.first.iter().chain(&self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::PlainCookie;
    use crate::{CookieConfig, StorageConfig};

    fn named(name: &str) -> Arc<dyn AbstractStorage> {
        let cookie = CookieConfig::builder().name(name).build().unwrap();
        Arc::new(PlainCookie(StorageConfig::new().with_cookie(cookie)))
    }

    #[test]
    fn claims_refuse_a_second_layer_with_the_same_name_or_tag() {
        let mut claims = CookieClaims::default();
        claims.claim(&named("A"), TypeId::of::<u8>()).unwrap();
        claims.claim(&named("B"), TypeId::of::<u16>()).unwrap();
        claims.claim(&named("C"), TypeId::of::<u32>()).unwrap();
        assert_eq!(format!("{claims:?}"), r#"["A", "B", "C"]"#);
        assert_eq!(claims.claim(&named("A"), TypeId::of::<u64>()), Err(ClaimConflict { name: "A".into() }));
        assert_eq!(claims.claim(&named("C"), TypeId::of::<u64>()), Err(ClaimConflict { name: "C".into() }));
        assert!(claims.claim(&named("D"), TypeId::of::<u16>()).is_err());
        assert!(claims.claim(&named("D"), TypeId::of::<u64>()).is_ok());
    }
}
