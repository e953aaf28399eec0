//! The browser authenticator: a one-shot page on 127.0.0.1 that runs
//! `navigator.credentials.create` / `.get` in the user's browser and posts the result back.
//!
//! Why a page: passkeys live behind the browser's WebAuthn API (platform authenticators,
//! phones over hybrid transport, security keys); a CLI cannot reach them directly. The
//! page is served by a tiny blocking HTTP server (std only) that:
//! - listens on 127.0.0.1 on a random port, and only for the time of one ceremony;
//! - answers only under a random one-time token path, and only to `Host: localhost:<port>`
//!   or `127.0.0.1:<port>` (so a web page elsewhere cannot rebind a name onto it);
//! - takes exactly one result, then stops.
//!
//! The page's origin is `http://localhost:<port>`: a secure context for WebAuthn, with
//! rp id `localhost`. Passkeys registered here belong to `localhost`.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{B256, Bytes, hex};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Assertion, PasskeyCredential, PasskeyError, PasskeySigner, random_32};

/// The page, with `__OPTIONS__` replaced by the ceremony's options.
const PAGE: &str = include_str!("page.html");

/// How the ceremony's URL reaches the user.
#[derive(Clone, Default)]
pub enum OpenWith {
    /// Print it on stderr for the user to open.
    Print,
    /// Open the system's default browser (`xdg-open`, `open`, `start`) and print it too,
    /// in case that fails.
    #[default]
    SystemBrowser,
    /// Hand it to the caller (a GUI, or a test driving a browser over WebDriver). The
    /// page is served once the callback returns, so it must not wait for the page to load
    /// (hand the URL to another thread).
    Callback(Arc<dyn Fn(&str) + Send + Sync>),
}

impl std::fmt::Debug for OpenWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Print => "Print",
            Self::SystemBrowser => "SystemBrowser",
            Self::Callback(_) => "Callback",
        })
    }
}

impl OpenWith {
    fn open(&self, url: &str) {
        match self {
            Self::Print => eprintln!("Open this page to continue with your passkey:\n  {url}"),
            Self::SystemBrowser => {
                eprintln!("Opening your browser; if it does not open, visit:\n  {url}");
                let opener: &[&str] = if cfg!(target_os = "macos") {
                    &["open"]
                } else if cfg!(windows) {
                    &["cmd", "/C", "start", ""]
                } else {
                    &["xdg-open"]
                };
                // Best effort: the URL is printed above either way.
                let _ = std::process::Command::new(opener[0])
                    .args(&opener[1..])
                    .arg(url)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
            Self::Callback(f) => f(url),
        }
    }
}

/// Cancels a running ceremony from another thread (Ctrl-C handler, GUI button).
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Stop the ceremony: it returns [`PasskeyError::Cancelled`] within a tenth of a second.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Registers passkeys and gets assertions through the user's browser.
///
/// ```no_run
/// use std::time::Duration;
/// use alloy_primitives::B256;
/// use namera::passkey::{BrowserAuthenticator, P256Verifier, PasskeySigner};
/// let browser = BrowserAuthenticator::new().with_timeout(Duration::from_secs(120));
/// let credential = browser.register("alice")?; // opens the page; store the credential
/// let passkey = browser.passkey(credential);
/// let signature = passkey.sign(B256::repeat_byte(1), P256Verifier::Precompile)?;
/// # let _ = signature;
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BrowserAuthenticator {
    rp_name: String,
    timeout: Duration,
    open: OpenWith,
    cancel: CancelHandle,
}

impl Default for BrowserAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

/// The relying party of passkeys made through the local page.
pub const LOCAL_RP_ID: &str = "localhost";

impl BrowserAuthenticator {
    /// Opens the system browser; waits up to 5 minutes per ceremony.
    pub fn new() -> Self {
        Self {
            rp_name: "Namera".into(),
            timeout: Duration::from_secs(300),
            open: OpenWith::default(),
            cancel: CancelHandle::default(),
        }
    }

    /// How long a ceremony may take before [`PasskeyError::Timeout`].
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How the URL reaches the user.
    pub fn with_open(mut self, open: OpenWith) -> Self {
        self.open = open;
        self
    }

    /// The name the browser shows for the relying party.
    pub fn with_rp_name(mut self, name: impl Into<String>) -> Self {
        self.rp_name = name.into();
        self
    }

    /// A handle that cancels this authenticator's ceremonies.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Register a new passkey for `user_name` (rp id `localhost`), with user
    /// verification required and an ES256 key, and return its credential.
    pub fn register(&self, user_name: &str) -> Result<PasskeyCredential, PasskeyError> {
        let challenge = random_32()?;
        let user_id = &random_32()?[..16];
        let options = json!({
            "mode": "create",
            "rpId": LOCAL_RP_ID,
            "rpName": self.rp_name,
            "userName": user_name,
            "userId": URL_SAFE_NO_PAD.encode(user_id),
            "challenge": URL_SAFE_NO_PAD.encode(challenge),
        });
        let (answer, origin) = self.ceremony(options)?;
        let raw_id = field(&answer, "rawId")?;
        let json = String::from_utf8(field(&answer, "clientDataJSON")?)
            .map_err(|_| bad_answer("clientDataJSON is not UTF-8"))?;
        PasskeyCredential::from_registration(
            &json,
            &field(&answer, "attestationObject")?,
            &raw_id,
            LOCAL_RP_ID,
            &challenge,
            Some(&origin),
        )
    }

    /// Ask the browser for an assertion by `credential` over `challenge`.
    pub fn get_assertion(
        &self,
        credential: &PasskeyCredential,
        challenge: B256,
    ) -> Result<Assertion, PasskeyError> {
        let options = json!({
            "mode": "get",
            "rpId": credential.rp_id,
            "credentialId": credential.id_base64url(),
            "challenge": URL_SAFE_NO_PAD.encode(challenge),
        });
        let (answer, _) = self.ceremony(options)?;
        if field(&answer, "rawId")? != credential.id.as_ref() {
            return Err(bad_answer("another credential answered"));
        }
        Ok(Assertion {
            authenticator_data: Bytes::from(field(&answer, "authenticatorData")?),
            client_data_json: String::from_utf8(field(&answer, "clientDataJSON")?)
                .map_err(|_| bad_answer("clientDataJSON is not UTF-8"))?,
            signature: Bytes::from(field(&answer, "signature")?),
        })
    }

    /// A [`PasskeySigner`] for `credential` that asks through this authenticator.
    pub fn passkey(&self, credential: PasskeyCredential) -> BrowserPasskey {
        BrowserPasskey { browser: self.clone(), credential }
    }

    /// Serve the page until it posts a result; returns the result and the page's origin.
    fn ceremony(&self, mut options: Value) -> Result<(Value, String), PasskeyError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        // Non-blocking accept lets the loop notice cancellation and the deadline.
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let token = hex::encode(&random_32()?[..16]);
        let origin = format!("http://{LOCAL_RP_ID}:{port}");
        options["resultPath"] = json!(format!("/{token}/result"));
        options["timeoutMs"] = json!(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX));
        // `<` escaped so the JSON cannot close the script element it sits in.
        let page = PAGE.replace("__OPTIONS__", &options.to_string().replace('<', "\\u003c"));
        let server = Arc::new(Server { token, port, page });
        self.open.open(&format!("{origin}/{}", server.token));
        let deadline = Instant::now() + self.timeout;
        // Each connection gets its own thread: a browser's idle preconnect socket must not
        // hold up the request that matters. The first result posted wins.
        let (results, result) = std::sync::mpsc::channel();
        loop {
            if self.cancel.is_cancelled() {
                return Err(PasskeyError::Cancelled);
            }
            if Instant::now() >= deadline {
                return Err(PasskeyError::Timeout { seconds: self.timeout.as_secs() });
            }
            if let Ok(answer) = result.try_recv() {
                return refusal(answer).map(|a| (a, origin));
            }
            match listener.accept() {
                Ok((stream, _)) => {
                    let (server, results) = (server.clone(), results.clone());
                    // A bad connection (a port scanner, a closed tab) ends only its thread.
                    std::thread::spawn(move || {
                        if let Ok(Some(answer)) = server.handle(stream) {
                            let _ = results.send(answer);
                        }
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A passkey used through the browser: every signature is one user approval.
#[derive(Debug, Clone)]
pub struct BrowserPasskey {
    browser: BrowserAuthenticator,
    credential: PasskeyCredential,
}

impl PasskeySigner for BrowserPasskey {
    fn credential(&self) -> &PasskeyCredential {
        &self.credential
    }

    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError> {
        self.browser.get_assertion(&self.credential, challenge)
    }
}

fn bad_answer(what: &str) -> PasskeyError {
    PasskeyError::BrowserResponse(what.to_owned())
}

fn field(answer: &Value, name: &str) -> Result<Vec<u8>, PasskeyError> {
    let text = answer
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| bad_answer(&format!("no {name}")))?;
    URL_SAFE_NO_PAD.decode(text).map_err(|_| bad_answer(&format!("{name} is not base64url")))
}

/// The page's `{ok: false, name, message}` as an error.
fn refusal(answer: Value) -> Result<Value, PasskeyError> {
    if answer.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(answer);
    }
    let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    match text("name").as_str() {
        "Cancelled" => Err(PasskeyError::Cancelled),
        name => {
            Err(PasskeyError::BrowserRefused { name: name.to_owned(), message: text("message") })
        }
    }
}

struct Server {
    token: String,
    port: u16,
    page: String,
}

/// Requests are tiny: refuse anything bigger than this.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 256 * 1024;

impl Server {
    /// Answer one request; `Some` when it carried the result.
    fn handle(&self, stream: TcpStream) -> std::io::Result<Option<Value>> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut head = Vec::new();
        let mut line = String::new();
        let (mut length, mut host) = (0usize, String::new());
        loop {
            line.clear();
            if reader.by_ref().take(MAX_HEAD as u64).read_line(&mut line)? == 0 {
                return Ok(None);
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(usize::MAX);
            } else if let Some(v) = lower.strip_prefix("host:") {
                host = v.trim().to_owned();
            }
            head.push(std::mem::take(&mut line));
            if head.len() > 100 {
                return respond(stream, "431 Request Header Fields Too Large", "text/plain", "");
            }
        }
        let request_line = head.first().cloned().unwrap_or_default();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let allowed_hosts =
            [format!("localhost:{}", self.port), format!("127.0.0.1:{}", self.port)];
        if !allowed_hosts.contains(&host) {
            return respond(stream, "421 Misdirected Request", "text/plain", "");
        }
        let page_path = format!("/{}", self.token);
        let result_path = format!("/{}/result", self.token);
        match (method, path) {
            ("GET", p) if p == page_path => {
                respond(stream, "200 OK", "text/html; charset=utf-8", &self.page)
            }
            ("POST", p) if p == result_path => {
                if length > MAX_BODY {
                    return respond(stream, "413 Content Too Large", "text/plain", "");
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body)?;
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => {
                        respond(stream, "200 OK", "text/plain", "ok")?;
                        Ok(Some(v))
                    }
                    Err(_) => respond(stream, "400 Bad Request", "text/plain", ""),
                }
            }
            // Anything else (a wrong token, /favicon.ico) gets nothing.
            _ => respond(stream, "404 Not Found", "text/plain", ""),
        }
    }
}

fn respond(
    mut stream: TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<Option<Value>> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    Ok(None)
}
