//! JSON-RPC over HTTP: the one transport under the node, bundler and paymaster clients.
//!
//! Blocking on purpose: every caller (CLI, MCP server, tests) gets concurrency from
//! scoped threads where it matters (chains, lanes), and the build stays free of an async
//! runtime and a second TLS stack. Requests can be batched into one HTTP round trip, and
//! every client can share an [`RpcStats`] so round trips can be counted.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Counts of what a client sent: JSON-RPC requests and HTTP round trips, and when each
/// round trip ran (to tell how many of them had to wait for one another).
#[derive(Debug, Default)]
pub struct RpcStats {
    requests: AtomicU64,
    round_trips: AtomicU64,
    intervals: Mutex<Vec<(Instant, Instant)>>,
}

impl RpcStats {
    /// JSON-RPC requests sent (a batch of n counts n).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// HTTP round trips made (a batch counts one).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// The longest chain of round trips each of which started after the previous one
    /// ended: the sequential round trips, what latency multiplies. Round trips that
    /// overlapped (batched or concurrent) count once.
    pub fn sequential_round_trips(&self) -> u64 {
        let mut spans = self.intervals.lock().map(|v| v.clone()).unwrap_or_default();
        spans.sort_by_key(|s| s.1);
        let mut count = 0;
        let mut last_end: Option<Instant> = None;
        for (start, end) in spans {
            if last_end.is_none_or(|e| start >= e) {
                count += 1;
                last_end = Some(end);
            }
        }
        count
    }

    /// The counts of several clients together, as if one client had made every round
    /// trip (to tell concurrent flows' combined chain from each one's own).
    pub fn merged<'a>(all: impl IntoIterator<Item = &'a Self>) -> Self {
        let merged = Self::default();
        for stats in all {
            merged.requests.fetch_add(stats.requests(), Ordering::Relaxed);
            merged.round_trips.fetch_add(stats.round_trips(), Ordering::Relaxed);
            if let (Ok(mut into), Ok(from)) = (merged.intervals.lock(), stats.intervals.lock()) {
                into.extend(from.iter().copied());
            }
        }
        merged
    }

    /// Back to zero.
    pub fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.round_trips.store(0, Ordering::Relaxed);
        if let Ok(mut v) = self.intervals.lock() {
            v.clear();
        }
    }

    fn record(&self, start: Instant) {
        if let Ok(mut v) = self.intervals.lock() {
            v.push((start, Instant::now()));
        }
    }
}

/// A JSON-RPC call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The endpoint could not be reached (nothing was processed).
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Why.
        reason: String,
    },
    /// The connection failed after it was made: the request may have been sent, and
    /// processed, before it broke (a reset, a closed socket, a cut-off answer).
    #[error("{method} to {url} was cut off (it may have been processed): {reason}")]
    Interrupted {
        /// The endpoint.
        url: String,
        /// The method.
        method: String,
        /// Why.
        reason: String,
    },
    /// No answer in time (the request may or may not have been processed).
    #[error("{method} to {url} timed out after {seconds} s")]
    Timeout {
        /// The endpoint.
        url: String,
        /// The method.
        method: String,
        /// The limit.
        seconds: u64,
    },
    /// The endpoint answered with an HTTP error and no JSON-RPC body.
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The endpoint answered with a JSON-RPC error.
    #[error("{}: {} (code {})", .0.method, .0.message, .0.code)]
    Rpc(Box<ErrorObject>),
    /// A call reverted (`eth_call`): the contract's revert data, decoded.
    #[error("{method} to {to} reverted: {revert}")]
    Reverted {
        /// The method.
        method: String,
        /// The called contract.
        to: alloy_primitives::Address,
        /// The revert data and what it says.
        revert: Box<crate::revert::Revert>,
    },
    /// The answer was not what the method returns.
    #[error("{method}: unexpected answer: {reason}")]
    Decode {
        /// The method.
        method: String,
        /// Why.
        reason: String,
    },
}

impl RpcError {
    /// The decoded revert, when a call reverted.
    pub fn revert(&self) -> Option<&crate::revert::Revert> {
        match self {
            Self::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }

    /// This error as a revert of a call to `to`, when the node's JSON-RPC error carries
    /// one; otherwise unchanged.
    pub(crate) fn into_revert(self, to: alloy_primitives::Address) -> Self {
        match &self {
            Self::Rpc(obj) => match crate::revert::Revert::from_error(obj) {
                Some(r) => Self::Reverted { method: obj.method.clone(), to, revert: Box::new(r) },
                None => self,
            },
            _ => self,
        }
    }

    /// Whether nothing was processed and trying again later may work.
    pub fn is_transient(&self) -> bool {
        // (A revert is the contract's answer: asking again gets the same one.)
        match self {
            Self::Unreachable { .. } => true,
            Self::Http { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// A JSON-RPC error object, with the method that got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorObject {
    /// The method.
    pub method: String,
    /// JSON-RPC error code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Extra data (revert data, for instance).
    pub data: Option<Value>,
}

/// Whether a method may be repeated after an answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Reads: repeat on any transient failure, including timeouts.
    Read,
    /// Writes (`eth_sendUserOperation`): repeat only when the request provably was not
    /// processed (connection refused, 429/503), never after a timeout, so nothing is
    /// sent twice by accident.
    Write,
}

/// A JSON-RPC endpoint.
///
/// ```no_run
/// use namera::rpc::RpcClient;
/// let node = RpcClient::new("http://127.0.0.1:8545");
/// let chain_id: String = node.call("eth_chainId", serde_json::json!([]))?;
/// # Ok::<(), namera::rpc::RpcError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
    timeout: Duration,
    stats: Arc<RpcStats>,
    retries: u32,
    /// Where bodies go instead of `url` over HTTP, when the caller handed one in.
    via: Option<Arc<dyn Transport>>,
}

/// Where a client's JSON-RPC bodies go when not over its own HTTP connection.
///
/// The seam through which an alloy `Provider` the caller already holds serves node reads
/// (feature `alloy-provider`, [`crate::provider`]). Everything above it — batching,
/// retries by [`Idempotence`], statistics, revert decoding — stays the client's.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Send one JSON-RPC body (a request object, or an array of them for a batch) and
    /// return the answer as the server wrote it. A JSON-RPC error is an answer, not an
    /// `Err`; `Err` is for a body that got no answer, sorted as
    /// [`RpcClient`]'s own HTTP failures are (unreachable, interrupted, HTTP status).
    fn exchange(&self, method: &str, body: &Value) -> Result<Value, RpcError>;
}

impl RpcClient {
    /// A client with a 30 s timeout and up to 3 retries of transient failures.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_timeout(url, Duration::from_secs(30))
    }

    /// A client with its own timeout.
    pub fn with_timeout(url: impl Into<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self { url: url.into(), agent, timeout, stats: Arc::default(), retries: 3, via: None }
    }

    /// A client whose bodies go through `transport`; `label` names it in errors (a URL,
    /// say). Retries, batching and statistics are as for an HTTP client.
    pub fn over(label: impl Into<String>, transport: Arc<dyn Transport>) -> Self {
        Self { via: Some(transport), ..Self::new(label) }
    }

    /// Share `stats` with other clients (to count a whole flow's round trips).
    pub fn with_stats(mut self, stats: Arc<RpcStats>) -> Self {
        self.stats = stats;
        self
    }

    /// How many times a transient failure is retried (0 = never).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The counters this client adds to.
    pub fn stats(&self) -> &Arc<RpcStats> {
        &self.stats
    }

    /// Call a read method and decode its result.
    pub fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, RpcError> {
        self.call_with(method, params, Idempotence::Read)
    }

    /// Call a method, retrying transient failures as `idempotence` allows.
    pub fn call_with<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        idempotence: Idempotence,
    ) -> Result<T, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let answer = self.post_with_retry(method, &body, 1, idempotence)?;
        decode(method, answer)
    }

    /// Send several read calls in one HTTP round trip; results come back in order.
    pub fn batch(&self, calls: &[(&str, Value)]) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(id, (m, p))| json!({"jsonrpc": "2.0", "id": id, "method": m, "params": p}))
            .collect();
        let answer = self.post_with_retry(
            "batch",
            &Value::Array(body),
            calls.len() as u64,
            Idempotence::Read,
        )?;
        let items = match answer {
            Value::Array(items) => items,
            // Some servers answer a whole batch with one error object.
            other => {
                return Err(decode::<Value>("batch", other).err().unwrap_or_else(|| {
                    RpcError::Decode { method: "batch".into(), reason: "not an array".into() }
                }));
            }
        };
        let mut out: Vec<Option<Result<Value, RpcError>>> =
            (0..calls.len()).map(|_| None).collect();
        for item in items {
            let Some(id) = item.get("id").and_then(Value::as_u64).map(|i| i as usize) else {
                continue;
            };
            if let Some(slot) = out.get_mut(id) {
                *slot = Some(decode(calls[id].0, item));
            }
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    Err(RpcError::Decode {
                        method: calls[i].0.to_owned(),
                        reason: "no answer in the batch".into(),
                    })
                })
            })
            .collect())
    }

    fn post_with_retry(
        &self,
        method: &str,
        body: &Value,
        requests: u64,
        idempotence: Idempotence,
    ) -> Result<Value, RpcError> {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            match self.post(method, body, requests) {
                Err(e) if attempt < self.retries && self.may_retry(&e, idempotence) => {
                    attempt += 1;
                    std::thread::sleep(delay);
                    delay *= 3;
                }
                other => return other,
            }
        }
    }

    fn may_retry(&self, e: &RpcError, idempotence: Idempotence) -> bool {
        match idempotence {
            Idempotence::Read => {
                e.is_transient()
                    || matches!(e, RpcError::Timeout { .. } | RpcError::Interrupted { .. })
            }
            Idempotence::Write => e.is_transient(),
        }
    }

    fn post(&self, method: &str, body: &Value, requests: u64) -> Result<Value, RpcError> {
        self.stats.requests.fetch_add(requests, Ordering::Relaxed);
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = self.exchange(method, body);
        self.stats.record(started);
        result
    }

    fn exchange(&self, method: &str, body: &Value) -> Result<Value, RpcError> {
        if let Some(via) = &self.via {
            return via.exchange(method, body);
        }
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| self.transport_error(method, e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| self.transport_error(method, e))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => Ok(v),
            Err(_) => Err(RpcError::Http {
                url: self.url.clone(),
                status,
                body: text.chars().take(300).collect(),
            }),
        }
    }

    /// Sorts a transport failure by whether the request can have left this machine:
    /// only a connection that was never made is [`RpcError::Unreachable`] (which a write
    /// may repeat); a failure once connected is [`RpcError::Interrupted`] (which it may
    /// not: `eth_sendUserOperation` could have gone out and be repeated).
    fn transport_error(&self, method: &str, e: ureq::Error) -> RpcError {
        use std::io::ErrorKind as Io;
        use ureq::{Error, Timeout};
        let unreachable = |reason: String| RpcError::Unreachable { url: self.url.clone(), reason };
        match e {
            Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
                unreachable(format!("connecting timed out ({e})"))
            }
            Error::Timeout(_) => RpcError::Timeout {
                url: self.url.clone(),
                method: method.to_owned(),
                seconds: self.timeout.as_secs(),
            },
            Error::HostNotFound | Error::ConnectionFailed | Error::BadUri(_) => {
                unreachable(e.to_string())
            }
            Error::Io(ref io)
                if matches!(
                    io.kind(),
                    Io::ConnectionRefused
                        | Io::AddrNotAvailable
                        | Io::NetworkUnreachable
                        | Io::HostUnreachable
                        | Io::NotFound
                ) =>
            {
                unreachable(e.to_string())
            }
            other => RpcError::Interrupted {
                url: self.url.clone(),
                method: method.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// Take `result` from a JSON-RPC answer, or its error.
fn decode<T: DeserializeOwned>(method: &str, answer: Value) -> Result<T, RpcError> {
    if let Some(err) = answer.get("error") {
        return Err(RpcError::Rpc(Box::new(ErrorObject {
            method: method.to_owned(),
            code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)")
                .to_owned(),
            data: err.get("data").cloned(),
        })));
    }
    let result = answer.get("result").cloned().ok_or_else(|| RpcError::Decode {
        method: method.to_owned(),
        reason: format!("no result in {}", truncate(&answer.to_string())),
    })?;
    serde_json::from_value(result.clone()).map_err(|e| RpcError::Decode {
        method: method.to_owned(),
        reason: format!("{e} in {}", truncate(&result.to_string())),
    })
}

fn truncate(s: &str) -> String {
    if s.len() > 300 { format!("{}…", &s[..s.floor_char_boundary(300)]) } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use std::{
        io::{BufRead, BufReader, Read},
        net::TcpListener,
        sync::atomic::AtomicUsize,
    };

    use super::*;

    /// A server that reads each request in full, then hangs up without answering: the
    /// request went out, and may have been processed. Counts the requests it read.
    fn cut_off_server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        let mut body = vec![0; length];
                        let _ = reader.read_exact(&mut body);
                        counter.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                }
                // Dropping the stream closes it: no answer.
            }
        });
        (url, seen)
    }

    #[test]
    fn a_write_is_not_repeated_once_it_may_have_been_sent() {
        let (url, seen) = cut_off_server();
        let client = RpcClient::with_timeout(&url, Duration::from_secs(5));
        let e = client
            .call_with::<Value>("eth_sendUserOperation", json!([]), Idempotence::Write)
            .unwrap_err();
        assert!(matches!(e, RpcError::Interrupted { .. }), "{e:?}");
        assert!(!e.is_transient());
        assert_eq!(seen.load(Ordering::SeqCst), 1, "sent once, never repeated");
        // A read may be repeated: the server sees every attempt.
        let e = client.call::<Value>("eth_chainId", json!([])).unwrap_err();
        assert!(matches!(e, RpcError::Interrupted { .. }), "{e:?}");
        assert_eq!(seen.load(Ordering::SeqCst), 1 + 1 + 3, "a read is retried 3 times");
    }

    #[test]
    fn a_write_is_repeated_when_no_connection_was_made() {
        // A port nothing listens on: the connection is refused, nothing was sent.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = RpcClient::new(format!("http://127.0.0.1:{port}"));
        let e = client
            .call_with::<Value>("eth_sendUserOperation", json!([]), Idempotence::Write)
            .unwrap_err();
        assert!(matches!(e, RpcError::Unreachable { .. }), "{e:?}");
        assert!(e.is_transient());
        assert_eq!(client.stats().round_trips.load(Ordering::Relaxed), 4, "tried 1 + 3 times");
    }
}
