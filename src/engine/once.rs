//! Creating exactly once: the one place where an ambiguous create (a lost response, a timeout) is
//! followed by a look for what it may have made before another attempt. Every family's creates, and
//! the creates of their parts (role assignments), go through it.

use std::future::Future;

use super::api::{ApiError, Reply};

/// How many times a create is attempted when its outcome stays unknown.
const CREATE_ATTEMPTS: usize = 3;

/// Creates something exactly once. When the outcome of a create is unknown (the response was lost),
/// `lookup` reads the tenant again for what the create would have made before another attempt.
pub async fn create_once<T, Create, CreateFut, Lookup, LookupFut>(create: Create, lookup: Lookup) -> Reply<T>
where
    Create: Fn() -> CreateFut,
    CreateFut: Future<Output = Reply<T>>,
    Lookup: Fn() -> LookupFut,
    LookupFut: Future<Output = Reply<Option<T>>>,
{
    let mut last_error = None;
    for _ in 0..CREATE_ATTEMPTS {
        match create().await {
            Ok(created) => return Ok(created),
            Err(error) if error.ambiguous => {
                if let Some(existing) = lookup().await? {
                    return Ok(existing);
                }
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| ApiError::new("internal", "no create was attempted")))
}
