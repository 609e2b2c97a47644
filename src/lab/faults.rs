//! Fault injection: which Graph requests fail, drawn from a seeded generator so a run can be replayed,
//! and the response that drops the connection instead of answering.

use std::sync::{Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::FaultRates;

/// What goes wrong with one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRoll {
    /// Drop the connection before doing anything.
    pub connection_reset: bool,
    /// Answer 503 before doing anything.
    pub server_error: bool,
    /// If the request commits a write, drop the connection instead of answering.
    pub lost_response: bool,
    /// Answer 429 before doing anything.
    pub throttled: bool,
}

/// Seconds an injected 429 asks the client to wait: short, so that fault suites stay quick, yet long
/// enough to tell an honoured `Retry-After` from an immediate retry.
pub const INJECTED_RETRY_AFTER_SECONDS: u64 = 1;

/// The seeded source of faults.
#[derive(Debug)]
pub struct FaultDice {
    rng: Mutex<SmallRng>,
    /// Throttling draws from a stream of its own, so that a seed replays the same 5xx, resets and
    /// lost responses whatever the throttle rate, as it did before throttling could be injected.
    throttle_rng: Mutex<SmallRng>,
}

/// Keeps the throttle stream apart from the main one for the same seed.
const THROTTLE_STREAM: u64 = 0x7468_726f_7474_6c65;

impl FaultDice {
    pub fn new(seed: u64) -> Self {
        FaultDice {
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            throttle_rng: Mutex::new(SmallRng::seed_from_u64(seed ^ THROTTLE_STREAM)),
        }
    }

    fn roll_throttle(&self, rates: &FaultRates) -> bool {
        let mut rng = self.throttle_rng.lock().unwrap_or_else(PoisonError::into_inner);
        rng.random::<f64>() < rates.throttle
    }

    /// Rolls every fault for one request. All draws are always made, so the sequence of rolls
    /// depends only on the seed and the order of requests, not on the rates.
    pub fn roll(&self, rates: &FaultRates) -> FaultRoll {
        let (reset, server_error, lost): (f64, f64, f64) = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (rng.random(), rng.random(), rng.random())
        };
        FaultRoll {
            connection_reset: reset < rates.connection_reset,
            server_error: server_error < rates.server_error,
            lost_response: lost < rates.lost_response,
            throttled: self.roll_throttle(rates),
        }
    }

    /// Rolls the refusals (503, 429) of a request inside a `$batch`: its connection is the batch's,
    /// so it can be neither reset nor lost on its own.
    pub fn roll_inner(&self, rates: &FaultRates) -> FaultRoll {
        let server_error = self.rng.lock().unwrap_or_else(PoisonError::into_inner).random::<f64>();
        FaultRoll {
            server_error: server_error < rates.server_error,
            throttled: self.roll_throttle(rates),
            ..FaultRoll::default()
        }
    }
}

/// A response whose body fails before its first byte. Hyper then closes the connection without
/// sending anything, so the client sees the connection closed before a response, as with a reset.
pub fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "lab: injected fault"))
    });
    let mut response = Response::new(Body::from_stream(failing));
    *response.status_mut() = StatusCode::OK;
    // A promised length that is never delivered keeps a client from taking an empty body as complete.
    response.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from_static("1024"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_follow_the_seed_and_the_rates() {
        let rates = FaultRates { server_error: 0.5, connection_reset: 0.5, lost_response: 0.5, throttle: 0.5 };
        let first: Vec<FaultRoll> = (0..50)
            .map({
                let dice = FaultDice::new(7);
                move |_| dice.roll(&rates)
            })
            .collect();
        let again: Vec<FaultRoll> = (0..50)
            .map({
                let dice = FaultDice::new(7);
                move |_| dice.roll(&rates)
            })
            .collect();
        assert_eq!(first, again);
        assert!(first.iter().any(|r| r.server_error) && first.iter().any(|r| !r.server_error));
        assert!(first.iter().any(|r| r.throttled) && first.iter().any(|r| !r.throttled));

        let dice = FaultDice::new(1);
        let never = FaultRates::default();
        assert!((0..100).all(|_| dice.roll(&never) == FaultRoll::default()));
        let always = FaultRates { server_error: 1.0, connection_reset: 1.0, lost_response: 1.0, throttle: 1.0 };
        let everything = FaultRoll { connection_reset: true, server_error: true, lost_response: true, throttled: true };
        assert!((0..100).all(|_| dice.roll(&always) == everything));
        let refusals = FaultRoll { server_error: true, throttled: true, ..FaultRoll::default() };
        assert!((0..100).all(|_| dice.roll_inner(&always) == refusals), "batch items are never reset or lost");
        let throttle_only = FaultRates { throttle: 1.0, ..FaultRates::default() };
        assert!((0..100).all(|_| dice.roll(&throttle_only) == FaultRoll { throttled: true, ..FaultRoll::default() }));
    }
}
