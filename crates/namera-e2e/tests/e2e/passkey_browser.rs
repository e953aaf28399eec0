//! The browser authenticator with a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), with a virtual authenticator (CTAP2, internal transport, user
//! verification on) registers a passkey through our local page, then approves a
//! UserOperation of the account it owns, which lands on the devnet.
//!
//! Also, without a browser: the page server's timeout, cancellation, refusal, token and
//! Host checks, each with its precise error or HTTP answer.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{U256, hex};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use namera::{
    kernel::{Call, LaneKey, addresses::WEBAUTHN_VALIDATOR},
    passkey::{
        BrowserAuthenticator, LOCAL_RP_ID, OpenWith, P256Verifier, PasskeyError, PasskeySigner,
        WebAuthnSignature,
    },
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, random_address};
use serde_json::{Value, json};

use crate::passkey::passkey_account;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, one Chromium session in it, and a virtual authenticator.
struct Browser {
    base: String,
    session: String,
    driver: Child,
    profile: PathBuf,
}

fn wd(method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let answer = match (method, body) {
        ("GET", _) => ureq::get(url).call(),
        ("DELETE", _) => ureq::delete(url).call(),
        (_, body) => ureq::post(url)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or(json!({})).to_string()),
    };
    let mut answer = answer.map_err(|e| format!("{method} {url}: {e}"))?;
    let text = answer.body_mut().read_to_string().map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{url}: {e}: {text}"))
}

impl Browser {
    /// Start chromedriver and Chromium, or `None` (with a loud message) when Chromium is
    /// not installed and `CI` is unset. With `CI` set a missing browser fails the test.
    fn start() -> Option<Self> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            // Skipping is for developer machines only: any CI value makes absence a failure.
            let ci = std::env::var_os("CI").is_some();
            assert!(!ci, "CI: {CHROMIUM} and {CHROMEDRIVER} are required (.ci/run installs them)");
            eprintln!(
                "\n!!!!! SKIPPED: the real-browser passkey test needs {CHROMIUM} and {CHROMEDRIVER} \
                 (apt-get install chromium chromium-driver) !!!!!\n"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while wd("GET", &format!("{base}/status"), None)
            .map(|s| s["value"]["ready"] != json!(true))
            .unwrap_or(true)
        {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir()
            .join(format!("namera-chromium-{}", hex::encode(&random_address()[..8])));
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let mut browser = Self { base, session: String::new(), driver, profile };
        let session = wd(
            "POST",
            &format!("{}/session", browser.base),
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "webauthn:virtualAuthenticators": true,
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            }}})),
        )
        .expect("new WebDriver session");
        browser.session = session["value"]["sessionId"].as_str().expect("session id").to_owned();
        Some(browser)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    /// A virtual platform authenticator that verifies the user: what a phone or laptop
    /// with biometrics is to the page.
    fn add_authenticator(&self) -> String {
        let a = wd(
            "POST",
            &self.url("/webauthn/authenticator"),
            Some(json!({"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true})),
        )
        .expect("virtual authenticator");
        a["value"].as_str().expect("authenticator id").to_owned()
    }

    fn credentials(&self, authenticator: &str) -> Vec<Value> {
        let c = wd(
            "GET",
            &self.url(&format!("/webauthn/authenticator/{authenticator}/credentials")),
            None,
        )
        .expect("credentials");
        c["value"].as_array().cloned().unwrap_or_default()
    }

    fn navigate(&self, url: &str) -> Result<Value, String> {
        wd("POST", &self.url("/url"), Some(json!({"url": url})))
    }

    fn page_state(&self) -> String {
        wd("POST", &self.url("/execute/sync"), Some(json!({"script": "return document.body.dataset.state + ': ' + document.getElementById('status').textContent", "args": []})))
            .map(|v| v["value"].to_string())
            .unwrap_or_else(|e| e)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = wd("DELETE", &self.url(""), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[test]
fn passkey_in_headless_chromium_registers_and_approves_a_user_operation_that_lands() {
    let Some(browser) = Browser::start() else { return };
    let browser = Arc::new(browser);
    let authenticator = browser.add_authenticator();
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let (b, errs) = (browser.clone(), errors.clone());
    // The callback must not wait for the page: the page is served after it returns.
    let open = OpenWith::Callback(Arc::new(move |url: &str| {
        let (b, errs, url) = (b.clone(), errs.clone(), url.to_owned());
        std::thread::spawn(move || {
            if let Err(e) = b.navigate(&url) {
                errs.lock().unwrap().push(e);
            }
        });
    }));
    let pages = BrowserAuthenticator::new().with_timeout(Duration::from_secs(60)).with_open(open);

    let started = Instant::now();
    let credential = pages.register("e2e@namera").unwrap_or_else(|e| {
        panic!("register: {e}; page: {}; {:?}", browser.page_state(), errors.lock().unwrap())
    });
    eprintln!("registered in {:?}", started.elapsed());
    assert_eq!(credential.rp_id, LOCAL_RP_ID);
    // The virtual authenticator holds exactly this credential, for localhost.
    let held = browser.credentials(&authenticator);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["rpId"], json!(LOCAL_RP_ID));
    let held_id = URL_SAFE_NO_PAD
        .decode(held[0]["credentialId"].as_str().unwrap().trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD
                .decode(held[0]["credentialId"].as_str().unwrap())
        })
        .unwrap();
    assert_eq!(held_id, credential.id.to_vec());
    assert!(browser.page_state().contains("done"), "{}", browser.page_state());

    // The account this passkey owns; its first UserOperation is approved in the browser.
    let passkey = Arc::new(pages.passkey(credential.clone()));
    let (account, owner) = passkey_account(passkey.clone(), ether(1));
    let to = random_address();
    let started = Instant::now();
    let sent = account
        .send(&owner, &[Call::transfer(to, U256::from(31337))], LaneKey::DEFAULT)
        .unwrap_or_else(|e| panic!("send: {e}; page: {}", browser.page_state()));
    eprintln!("approved in the browser and sent in {:?}", started.elapsed());
    // What Chromium signed: a real assertion, encoded and checked by the SDK.
    let sig = WebAuthnSignature::decode(&sent.operation.signature).unwrap();
    sig.verify(sent.hash, &credential.key(), P256Verifier::Precompile).unwrap();
    assert!(sig.client_data_json.starts_with(r#"{"type":"webauthn.get","challenge":""#));
    assert!(
        sig.client_data_json.contains(r#""origin":"http://localhost:"#),
        "{}",
        sig.client_data_json
    );
    assert_eq!(sig.authenticator_data[32] & 0x05, 0x05, "UP and UV from the virtual authenticator");
    let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap();
    assert!(receipt.success, "{receipt:?}");
    let node = &account.chain().node;
    assert_eq!(node.balance(to).unwrap(), U256::from(31337));
    assert!(!node.code(account.address()).unwrap().is_empty(), "deployed by the first operation");
    assert_eq!(account.config().root.address(), WEBAUTHN_VALIDATOR);
    // The authenticator's sign count moved: it really signed.
    let held = browser.credentials(&authenticator);
    assert!(held[0]["signCount"].as_u64().unwrap_or(0) >= 1, "{held:?}");
    assert!(errors.lock().unwrap().is_empty(), "{:?}", errors.lock().unwrap());
}

// ---------------------------------------------------------------------------------------
// The page server without a browser

/// An authenticator whose URL is handed to `on_url` (on another thread, as a browser would
/// take it).
fn pages(
    timeout: Duration,
    on_url: impl Fn(String) + Send + Sync + 'static,
) -> BrowserAuthenticator {
    let on_url = Arc::new(on_url);
    BrowserAuthenticator::new().with_timeout(timeout).with_open(OpenWith::Callback(Arc::new(
        move |url: &str| {
            let (f, url) = (on_url.clone(), url.to_owned());
            std::thread::spawn(move || f(url));
        },
    )))
}

/// A raw HTTP/1.1 request; returns the status line.
fn raw(url: &str, method: &str, host: Option<&str>, body: &str) -> String {
    let rest = url.strip_prefix("http://localhost:").unwrap();
    let (port, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    let host = host.map_or_else(|| format!("localhost:{port}"), str::to_owned);
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

fn credential() -> namera::passkey::PasskeyCredential {
    namera::passkey::SoftwarePasskey::generate(LOCAL_RP_ID).unwrap().credential().clone()
}

#[test]
fn passkey_page_times_out_with_a_clear_error() {
    let started = Instant::now();
    let e = pages(Duration::from_secs(1), |_| {})
        .get_assertion(&credential(), Default::default())
        .unwrap_err();
    assert!(matches!(e, PasskeyError::Timeout { seconds: 1 }), "{e:?}");
    assert_eq!(e.to_string(), "no answer from the browser within 1 s");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn passkey_page_cancellation_from_the_caller_and_from_the_page() {
    let p = pages(Duration::from_secs(30), |_| {});
    let handle = p.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        handle.cancel();
    });
    let started = Instant::now();
    let e = p.register("x").unwrap_err();
    assert!(matches!(e, PasskeyError::Cancelled), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // The page's Cancel button posts this.
    let p = pages(Duration::from_secs(30), |url| {
        let status = raw(
            &format!("{url}/result"),
            "POST",
            None,
            r#"{"ok":false,"name":"Cancelled","message":"x"}"#,
        );
        assert_eq!(status, "HTTP/1.1 200 OK");
    });
    assert!(matches!(p.register("x"), Err(PasskeyError::Cancelled)));
}

#[test]
fn passkey_page_reports_the_browsers_refusal_and_guards_its_door() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let p = pages(Duration::from_secs(30), move |url| {
        // An idle connection (a browser's preconnect) holds up nothing.
        let port = url.strip_prefix("http://localhost:").unwrap().split('/').next().unwrap();
        let _idle = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        let mut s = s.lock().unwrap();
        // The page itself, under the token.
        s.push(raw(&url, "GET", None, ""));
        // A wrong token, and a foreign Host (DNS rebinding), get nothing.
        let (origin, _) = url.rsplit_once('/').unwrap();
        s.push(raw(&format!("{origin}/{}", "0".repeat(32)), "GET", None, ""));
        s.push(raw(&url, "GET", Some("evil.example"), ""));
        // Garbage instead of a result does not end the ceremony…
        s.push(raw(&format!("{url}/result"), "POST", None, "not json"));
        // …the browser's refusal does.
        s.push(raw(
            &format!("{url}/result"),
            "POST",
            None,
            r#"{"ok":false,"name":"NotAllowedError","message":"The operation either timed out or was not allowed."}"#,
        ));
    });
    let started = Instant::now();
    match p.get_assertion(&credential(), Default::default()) {
        Err(PasskeyError::BrowserRefused { name, message }) => {
            assert_eq!(name, "NotAllowedError");
            assert_eq!(message, "The operation either timed out or was not allowed.");
        }
        other => panic!("expected BrowserRefused, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "not held up by the idle connection");
    // The last answer reaches the page's side just after the ceremony ends.
    while seen.lock().unwrap().len() < 5 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 421 Misdirected Request",
            "HTTP/1.1 400 Bad Request",
            "HTTP/1.1 200 OK"
        ]
    );
}
