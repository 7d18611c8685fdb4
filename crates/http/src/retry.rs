//! When a failed download is tried again, and after how long.
//!
//! Retried: a connection refused, reset or timed out, a response cut before its end, a
//! stall, `5xx` and `429`. Not retried: other `4xx` (asking again gets the same answer),
//! TLS failures (a certificate the firmware refuses stays refused) and anything about the
//! content (a bad signature is decided later, by `imgverify`, and never retried).
//!
//! The delay before attempt `n + 1` is exponential backoff, `base · 2^(n-1)` capped at
//! `max_delay`, with "equal jitter" (half fixed, half random) so that a fleet that failed
//! together does not come back together. A `Retry-After` from the server replaces it,
//! honoured up to `max_retry_after`.
//!
//! A `503`/`429` with `Retry-After` is a server asking to be called back, not a failure:
//! such answers are retried as long as the time spent waiting on them stays under
//! `max_busy_wait` and there are at most `max_busy_answers` of them, without using up
//! attempts, so a fleet queued behind a busy server still boots. Everything else counts
//! against `max_attempts`.
//!
//! No wait is shorter than `base_delay`, whatever the server says: a `Retry-After: 0`
//! (or a date at or before the response's `Date`) would otherwise be retried at once,
//! again and again, and never use up the busy budget — a server, or anyone on the path of
//! a plain-HTTP download, could keep the boot hammering it forever. Each busy answer is
//! charged at least `base_delay` to the budget, and their number is capped as well.
//!
//! `Retry-After` as delta-seconds is taken as is. As an HTTP-date it is converted with
//! the response's own `Date` header (the difference of the two, so the firmware's clock
//! does not matter); without a usable `Date`, or when the date does not parse, the
//! backoff delay is used instead.

use crate::date::parse_http_date;
use crate::response::Head;

/// What went wrong with an attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be made (refused, reset during the handshake, timed out).
    Connect,
    /// The connection broke or went silent before the response was complete.
    Interrupted,
    /// The server answered with this status; `retry_after_ms` from its Retry-After.
    Status {
        /// The status code.
        code: u16,
        /// The server's Retry-After, in milliseconds, when it gave a usable one.
        retry_after_ms: Option<u64>,
    },
    /// Anything that asking again cannot change (TLS, 4xx, malformed responses).
    Permanent,
}

impl Failure {
    /// The failure for a response head with an error status.
    pub fn from_head(head: &Head) -> Self {
        Self::Status { code: head.status, retry_after_ms: retry_after_ms(head) }
    }
}

/// The server's Retry-After in milliseconds: delta-seconds, or an HTTP-date minus the
/// response's Date. `None` when absent or unusable.
pub fn retry_after_ms(head: &Head) -> Option<u64> {
    let value = head.retry_after.as_deref()?.trim();
    if !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|s| s * 1000);
    }
    let at = parse_http_date(value)?;
    let now = parse_http_date(head.date.as_deref()?)?;
    Some(at.saturating_sub(now) * 1000)
}

/// The limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (busy answers aside).
    pub max_attempts: u32,
    /// The backoff before the second attempt.
    pub base_delay_ms: u64,
    /// The longest backoff.
    pub max_delay_ms: u64,
    /// The longest Retry-After honoured; longer ones are cut to this.
    pub max_retry_after_ms: u64,
    /// How long in all a download waits on busy answers (503/429 with Retry-After).
    pub max_busy_wait_ms: u64,
    /// How many busy answers a download takes at most.
    pub max_busy_answers: u32,
}

impl Default for RetryPolicy {
    /// Five attempts, 0.5 s doubling to at most 8 s (about 15 s of backoff in all);
    /// Retry-After from 0.5 s up to 60 s, busy answers for up to 5 minutes and 60 answers
    /// in all.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            max_retry_after_ms: 60_000,
            max_busy_wait_ms: 300_000,
            max_busy_answers: 60,
        }
    }
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after `delay_ms`.
    Retry {
        /// The wait.
        delay_ms: u64,
        /// The number of the next attempt, or `None` for a busy answer (which uses none).
        attempt: Option<u32>,
    },
    /// Stop: the failure is final.
    GiveUp(GiveUp),
}

/// Why retrying stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// Asking again cannot help.
    NotRetryable,
    /// `max_attempts` were made.
    Attempts(u32),
    /// Waiting would pass the download's time limit.
    TimeLimit,
    /// The server stayed busy longer than `max_busy_wait`, or answered busy more than
    /// `max_busy_answers` times.
    Busy {
        /// The busy answers taken.
        answers: u32,
        /// The time waited on them, in milliseconds.
        waited_ms: u64,
    },
}

/// The retry state of one download.
#[derive(Clone, Debug)]
pub struct Retries {
    policy: RetryPolicy,
    /// Attempts made that failed and count.
    failures: u32,
    busy_answers: u32,
    busy_waited_ms: u64,
}

impl Retries {
    /// A download about to make its first attempt.
    pub fn new(policy: RetryPolicy) -> Self {
        Self { policy, failures: 0, busy_answers: 0, busy_waited_ms: 0 }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// After `failure`: retry (and when) or give up. `random` is any random number (for
    /// the jitter); `remaining_ms` the time left before the download's deadline, if it has one.
    pub fn after(&mut self, failure: Failure, random: u64, remaining_ms: Option<u64>) -> Decision {
        let retryable = match failure {
            Failure::Connect | Failure::Interrupted => true,
            Failure::Status { code, .. } => code == 429 || (500..=599).contains(&code),
            Failure::Permanent => false,
        };
        if !retryable {
            return Decision::GiveUp(GiveUp::NotRetryable);
        }
        let fits = |delay: u64| remaining_ms.is_none_or(|left| delay < left);
        // What the server asks for, but never less than the base delay (see the module's
        // documentation: `Retry-After: 0` must not become a tight loop).
        let asked = |after: u64| after.min(self.policy.max_retry_after_ms).max(self.policy.base_delay_ms);
        if let Failure::Status { code: 503 | 429, retry_after_ms: Some(after) } = failure {
            let delay = asked(after);
            if self.busy_answers >= self.policy.max_busy_answers
                || self.busy_waited_ms.saturating_add(delay) > self.policy.max_busy_wait_ms
            {
                return Decision::GiveUp(GiveUp::Busy {
                    answers: self.busy_answers,
                    waited_ms: self.busy_waited_ms,
                });
            }
            if !fits(delay) {
                return Decision::GiveUp(GiveUp::TimeLimit);
            }
            self.busy_answers += 1;
            self.busy_waited_ms += delay;
            return Decision::Retry { delay_ms: delay, attempt: None };
        }
        self.failures += 1;
        if self.failures >= self.policy.max_attempts {
            return Decision::GiveUp(GiveUp::Attempts(self.failures));
        }
        let delay = match failure {
            Failure::Status { retry_after_ms: Some(after), .. } => asked(after),
            _ => {
                let exp = self.failures.saturating_sub(1).min(32);
                let backoff =
                    self.policy.base_delay_ms.saturating_mul(1 << exp).min(self.policy.max_delay_ms);
                let half = backoff / 2;
                half + random % (backoff - half + 1)
            }
        };
        if !fits(delay) {
            return Decision::GiveUp(GiveUp::TimeLimit);
        }
        Decision::Retry { delay_ms: delay, attempt: Some(self.failures + 1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn head(retry_after: Option<&str>, date: Option<&str>) -> Head {
        Head {
            status: 503,
            date: date.map(String::from),
            retry_after: retry_after.map(String::from),
            ..Head::default()
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after_ms(&head(Some("1"), None)), Some(1000));
        assert_eq!(retry_after_ms(&head(Some(" 120 "), None)), Some(120_000));
        assert_eq!(retry_after_ms(&head(None, None)), None);
        assert_eq!(retry_after_ms(&head(Some("-1"), None)), None);
        assert_eq!(retry_after_ms(&head(Some("99999999999"), None)), None);
        // A date: measured against the response's own Date.
        let h = head(Some("Sat, 05 Dec 2026 10:00:30 GMT"), Some("Sat, 05 Dec 2026 10:00:00 GMT"));
        assert_eq!(retry_after_ms(&h), Some(30_000));
        // In the past: now.
        let h = head(Some("Sat, 05 Dec 2026 09:00:00 GMT"), Some("Sat, 05 Dec 2026 10:00:00 GMT"));
        assert_eq!(retry_after_ms(&h), Some(0));
        // A date without Date, or unparsable: unusable (the backoff applies).
        assert_eq!(retry_after_ms(&head(Some("Sat, 05 Dec 2026 10:00:30 GMT"), None)), None);
        assert_eq!(retry_after_ms(&head(Some("soon"), Some("Sat, 05 Dec 2026 10:00:00 GMT"))), None);
    }

    fn status(code: u16, after: Option<u64>) -> Failure {
        Failure::Status { code, retry_after_ms: after }
    }

    #[test]
    fn what_is_retried() {
        for f in
            [Failure::Connect, Failure::Interrupted, status(500, None), status(503, None), status(429, None)]
        {
            assert!(
                matches!(Retries::new(RetryPolicy::default()).after(f, 0, None), Decision::Retry { .. }),
                "{f:?}"
            );
        }
        for f in [Failure::Permanent, status(404, None), status(403, Some(1000)), status(400, None)] {
            assert_eq!(
                Retries::new(RetryPolicy::default()).after(f, 0, None),
                Decision::GiveUp(GiveUp::NotRetryable),
                "{f:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap_and_attempts_are_bounded() {
        let policy = RetryPolicy { max_attempts: 7, ..RetryPolicy::default() };
        let delays = |random: u64| {
            let mut r = Retries::new(policy);
            let mut out = Vec::new();
            loop {
                match r.after(Failure::Interrupted, random, None) {
                    Decision::Retry { delay_ms, attempt } => out.push((delay_ms, attempt.unwrap())),
                    Decision::GiveUp(g) => return (out, g),
                }
            }
        };
        // No jitter drawn: half the backoff; the most: all of it.
        let (low, why) = delays(0);
        assert_eq!(low, [(250, 2), (500, 3), (1000, 4), (2000, 5), (4000, 6), (4000, 7)]);
        assert_eq!(why, GiveUp::Attempts(7));
        let (high, _) = delays(u64::MAX - 1);
        for ((l, _), (h, _)) in low.iter().zip(&high) {
            assert!(*l <= *h && *h <= 2 * *l, "{l} {h}");
        }
        // Different random numbers give different delays.
        assert_ne!(delays(1234).0, delays(98765).0);
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_cap() {
        let mut r = Retries::new(RetryPolicy::default());
        assert_eq!(
            r.after(status(500, Some(2000)), 7, None),
            Decision::Retry { delay_ms: 2000, attempt: Some(2) }
        );
        assert_eq!(
            r.after(status(502, Some(3_600_000)), 7, None),
            Decision::Retry { delay_ms: 60_000, attempt: Some(3) }
        );
    }

    #[test]
    fn busy_answers_use_no_attempts_but_a_time_budget() {
        let policy = RetryPolicy { max_busy_wait_ms: 10_000, ..RetryPolicy::default() };
        let mut r = Retries::new(policy);
        for _ in 0..10 {
            assert_eq!(
                r.after(status(503, Some(1000)), 0, None),
                Decision::Retry { delay_ms: 1000, attempt: None }
            );
        }
        assert_eq!(
            r.after(status(429, Some(1000)), 0, None),
            Decision::GiveUp(GiveUp::Busy { answers: 10, waited_ms: 10_000 })
        );
        // A plain failure still counts from the first attempt.
        assert!(matches!(r.after(Failure::Connect, 0, None), Decision::Retry { attempt: Some(2), .. }));
    }

    /// A server answering `503 Retry-After: 0` forever (or with a date at or before its
    /// Date) is not retried in a tight loop: every wait is at least the base delay, and
    /// the policy gives up within both the time budget and the count of busy answers.
    #[test]
    fn retry_after_zero_forever_is_bounded() {
        let zero_by_date = retry_after_ms(&head(
            Some("Sat, 05 Dec 2026 09:00:00 GMT"),
            Some("Sat, 05 Dec 2026 10:00:00 GMT"),
        ));
        assert_eq!(zero_by_date, Some(0));
        for (policy, after) in [
            (RetryPolicy::default(), Some(0)),
            (RetryPolicy::default(), zero_by_date),
            // A budget the count reaches first, and one the time reaches first.
            (RetryPolicy { max_busy_answers: 7, ..RetryPolicy::default() }, Some(0)),
            (RetryPolicy { max_busy_wait_ms: 2_000, ..RetryPolicy::default() }, Some(0)),
        ] {
            let mut r = Retries::new(policy);
            let (mut answers, mut waited) = (0u32, 0u64);
            let why = loop {
                match r.after(status(503, after), 0, None) {
                    Decision::Retry { delay_ms, attempt } => {
                        assert_eq!(attempt, None);
                        assert!(delay_ms >= policy.base_delay_ms, "{delay_ms} ms");
                        answers += 1;
                        waited += delay_ms;
                        assert!(answers <= policy.max_busy_answers, "{policy:?}: still retrying");
                    }
                    Decision::GiveUp(why) => break why,
                }
            };
            assert_eq!(why, GiveUp::Busy { answers, waited_ms: waited }, "{policy:?}");
            assert!(waited <= policy.max_busy_wait_ms);
            let by_time = policy.max_busy_wait_ms / policy.base_delay_ms;
            assert_eq!(u64::from(answers), u64::from(policy.max_busy_answers).min(by_time), "{policy:?}");
        }
        // 429 the same; a 500 with Retry-After: 0 waits the base delay too.
        let mut r = Retries::new(RetryPolicy::default());
        assert_eq!(r.after(status(429, Some(0)), 0, None), Decision::Retry { delay_ms: 500, attempt: None });
        assert_eq!(
            r.after(status(500, Some(0)), 0, None),
            Decision::Retry { delay_ms: 500, attempt: Some(2) }
        );
    }

    #[test]
    fn the_time_limit_stops_waiting() {
        let mut r = Retries::new(RetryPolicy::default());
        assert_eq!(r.after(status(503, Some(5000)), 0, Some(4000)), Decision::GiveUp(GiveUp::TimeLimit));
        assert_eq!(r.after(Failure::Connect, 0, Some(100)), Decision::GiveUp(GiveUp::TimeLimit));
        assert!(matches!(r.after(Failure::Connect, 0, Some(100_000)), Decision::Retry { .. }));
    }
}
