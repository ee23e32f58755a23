//! Which session cookies one request's layers serve, so two of them never write the same cookie.

use std::any::TypeId;

/// The session cookies one request's layers claimed, so two layers with the same cookie name (or the
/// same tag) on one route are found out instead of overwriting each other's cookie. An adapter keeps
/// one per request and calls [`claim`](Self::claim) for each of its layers.
#[derive(Clone, Debug, Default)]
pub struct CookieClaims(Vec<(String, TypeId)>);

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
    /// Records that a layer with the tag `tag` serves the cookie `name` on this request.
    pub fn claim(&mut self, name: &str, tag: TypeId) -> Result<(), ClaimConflict> {
        if self.0.iter().any(|(claimed, claimed_tag)| claimed == name || *claimed_tag == tag) {
            return Err(ClaimConflict { name: name.to_owned() });
        }
        self.0.push((name.to_owned(), tag));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_refuse_a_second_layer_with_the_same_name_or_tag() {
        let mut claims = CookieClaims::default();
        claims.claim("A", TypeId::of::<u8>()).unwrap();
        claims.claim("B", TypeId::of::<u16>()).unwrap();
        assert_eq!(claims.claim("A", TypeId::of::<u32>()), Err(ClaimConflict { name: "A".into() }));
        assert!(claims.claim("C", TypeId::of::<u8>()).is_err());
    }
}
