//! Passkeys (WebAuthn, P-256) as the account owner or as a session key's signer.
//!
//! Kernel checks a passkey's signature onchain through the WebAuthn validator (as the
//! root: the account's owner) or the WebAuthnSigner (as a permission's signer: a session
//! key). Both take the same signature: the WebAuthn assertion's `authenticatorData` and
//! `clientDataJSON`, where the `"type"` sits, and the P-256 `r`, `s`, plus which P-256
//! verifier the chain has. The digest the passkey approves (a UserOperation hash, an
//! `Enable` digest) is the WebAuthn challenge itself.
//!
//! The parts:
//! - [`PasskeyCredential`]: what registration gives (credential id, public key, rp id),
//!   parsed from a browser's `attestationObject` by [`PasskeyCredential::from_registration`].
//! - [`Assertion`] → [`WebAuthnSignature`]: the encoder (DER to low-s scalars, type
//!   location, challenge check) and [`WebAuthnSignature::verify`], the same checks the
//!   contracts make, run before anything is sent.
//! - [`PasskeySigner`]: an authenticator that answers a challenge. [`SoftwarePasskey`]
//!   keeps the P-256 secret in memory (tests, headless servers); the browser authenticator
//!   (`passkey-browser` feature) asks a real browser through a one-shot local page.
//! - With the `client` feature: [`PasskeyOwnerSigner`] signs UserOperations as the owner,
//!   a [`crate::account::SessionKeySigner`] can hold a passkey
//!   ([`crate::account::SessionKey::Passkey`]), and
//!   [`crate::session_key::OwnerApproval::sign_with_passkey`] approves a session key.
//!
//! ```
//! use alloy_primitives::B256;
//! use namera::passkey::{P256Verifier, PasskeySigner, SoftwarePasskey};
//! let passkey = SoftwarePasskey::from_secret(&[7u8; 32], b"cred-1".to_vec(), "localhost")?;
//! let digest = B256::repeat_byte(0x11);
//! let signature = passkey.sign(digest, P256Verifier::Precompile)?;
//! // The SDK checked it as the contract will; this is what goes onchain.
//! signature.verify(digest, &passkey.credential().key(), P256Verifier::Precompile)?;
//! assert_eq!(signature.response_type_location, alloy_primitives::U256::from(1));
//! # Ok::<(), namera::passkey::PasskeyError>(())
//! ```

mod assertion;
#[cfg(feature = "passkey-browser")]
mod browser;
mod cbor;
mod credential;
#[cfg(feature = "client")]
mod owner;
mod software;

use alloy_primitives::{B256, U256};

pub use assertion::{
    Assertion, CHALLENGE_OFFSET, FLAG_BE, FLAG_BS, FLAG_UP, FLAG_UV, TYPE_GET, WebAuthnSignature,
    challenge_text, stub_signature, webauthn_message,
};
#[cfg(feature = "passkey-browser")]
pub use browser::{BrowserAuthenticator, BrowserPasskey, CancelHandle, LOCAL_RP_ID, OpenWith};
pub use credential::PasskeyCredential;
#[cfg(feature = "client")]
pub use owner::{PasskeyOwnerSigner, detect_verifier};
pub use software::SoftwarePasskey;

/// Which P-256 verifier a chain offers, which the signature names (`usePrecompiled`).
///
/// Chains with RIP-7212 / EIP-7951 have the precompile at `0x…0100`; elsewhere the
/// contracts call Daimo's Solidity verifier. A signature naming a verifier the chain does
/// not have is simply invalid onchain, so the choice is per chain:
/// [`detect_verifier`] asks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum P256Verifier {
    /// The precompile at `0x…0100` (cheaper; present on the devnet).
    #[default]
    Precompile,
    /// Daimo's verifier contract at `0xc2b7…4De4`.
    Daimo,
}

impl P256Verifier {
    /// The signature's `usePrecompiled` flag.
    pub const fn use_precompiled(self) -> bool {
        matches!(self, Self::Precompile)
    }
}

/// Why a passkey operation failed. Each check the contracts make has its own variant,
/// so a caller (and a test) can tell exactly what is wrong with an assertion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The DER signature from the authenticator does not parse.
    #[error("the authenticator's signature is not a DER P-256 signature: {0}")]
    SignatureEncoding(String),
    /// `r` or `s` is zero or not below the group order.
    #[error("r or s is not in [1, n-1]")]
    ScalarOutOfRange,
    /// `s` is above n/2: the contracts refuse malleable signatures.
    #[error("s is in the upper half of the group order (high s); the contracts need s <= n/2")]
    HighS,
    /// authenticatorData is shorter than its fixed 37-byte head.
    #[error("authenticatorData has {len} bytes, fewer than 37")]
    AuthenticatorDataTooShort {
        /// Its length.
        len: usize,
    },
    /// The user-present flag is not set.
    #[error("authenticatorData flags {flags:#04x}: user presence (UP) not set")]
    UserNotPresent {
        /// The flags byte.
        flags: u8,
    },
    /// The user-verified flag is not set: the passkey was used without PIN/biometrics.
    #[error("authenticatorData flags {flags:#04x}: user verification (UV) not set")]
    UserNotVerified {
        /// The flags byte.
        flags: u8,
    },
    /// Backed up (BS) without backup eligible (BE): an inconsistent authenticator.
    #[error("authenticatorData flags {flags:#04x}: backed up (BS) without backup eligible (BE)")]
    BackupStateWithoutEligibility {
        /// The flags byte.
        flags: u8,
    },
    /// The authenticatorData is for another relying party than the credential's.
    #[error("authenticatorData's rpIdHash is not sha256({rp_id:?})")]
    RpIdMismatch {
        /// The credential's relying party.
        rp_id: String,
    },
    /// clientDataJSON does not contain `"type":"webauthn.get"`.
    #[error("clientDataJSON is not a webauthn.get assertion (type {found:?})")]
    NotAnAssertion {
        /// The type it has, if it could be read.
        found: Option<String>,
    },
    /// `responseTypeLocation` does not point at `"type":"webauthn.get"`.
    #[error(
        "responseTypeLocation is {given}, but \"type\":\"webauthn.get\" starts at byte {actual}"
    )]
    ResponseTypeLocation {
        /// The location in the signature.
        given: U256,
        /// Where the type really starts.
        actual: usize,
    },
    /// The challenge is not the digest being approved.
    #[error("the assertion's challenge {found:?} is not the digest's {expected:?}")]
    ChallengeMismatch {
        /// base64url of the digest.
        expected: String,
        /// The challenge found in clientDataJSON, if readable.
        found: Option<String>,
    },
    /// The challenge is right but does not start at byte 23 of clientDataJSON, where the
    /// contracts look for it.
    #[error("\"challenge\" starts at byte {found} of clientDataJSON; the contracts need byte 23")]
    ChallengeOffset {
        /// Where it starts.
        found: usize,
    },
    /// The signature names a P-256 verifier the chain does not use.
    #[error("the signature uses the {signature:?} verifier but the chain uses {chain:?}")]
    WrongVerifier {
        /// The verifier the signature names.
        signature: P256Verifier,
        /// The verifier for the chain.
        chain: P256Verifier,
    },
    /// The P-256 signature does not verify under the passkey's public key.
    #[error("the P-256 signature does not verify under the passkey's public key")]
    BadSignature,
    /// The bytes are not a Kernel WebAuthn signature.
    #[error("not a Kernel WebAuthn signature: {0}")]
    NotKernelEncoding(String),
    /// The public key is not a point on P-256.
    #[error("the public key is not a point on P-256")]
    InvalidPublicKey,
    /// The secret is not a valid P-256 scalar.
    #[error("the secret is not a valid P-256 private key")]
    InvalidSecret,
    /// The registration (attestationObject, COSE key, clientDataJSON) is malformed or
    /// not for what was asked.
    #[error("registration: {0}")]
    Registration(String),
    /// The operating system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
    /// The browser did not answer in time.
    #[error("no answer from the browser within {seconds} s")]
    Timeout {
        /// How long we waited.
        seconds: u64,
    },
    /// The caller cancelled the ceremony.
    #[error("cancelled")]
    Cancelled,
    /// The browser (or the user) refused: the name is the DOMException's
    /// (`NotAllowedError` when the user dismissed the dialog or it timed out).
    #[error("the browser refused: {name}: {message}")]
    BrowserRefused {
        /// The DOMException name.
        name: String,
        /// Its message.
        message: String,
    },
    /// The page posted something that is not a WebAuthn result.
    #[error("unexpected answer from the browser page: {0}")]
    BrowserResponse(String),
    /// The local page server failed.
    #[error("local page server: {0}")]
    Io(#[from] std::io::Error),
}

/// An authenticator holding one passkey: it answers a challenge with a WebAuthn
/// assertion, as `navigator.credentials.get` does.
///
/// [`PasskeySigner::sign`] then turns the assertion into the Kernel signature and checks
/// it as the contracts will, so nothing unverifiable is ever sent.
///
/// ```
/// use alloy_primitives::B256;
/// use namera::passkey::{PasskeySigner, SoftwarePasskey};
/// let passkey = SoftwarePasskey::generate("localhost")?;
/// let assertion = passkey.get_assertion(B256::ZERO)?;
/// assert!(assertion.client_data_json.starts_with(r#"{"type":"webauthn.get","challenge":""#));
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
pub trait PasskeySigner: Send + Sync {
    /// The credential (id, public key, relying party).
    fn credential(&self) -> &PasskeyCredential;

    /// Ask the authenticator to sign `challenge` (the 32-byte digest to approve).
    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError>;

    /// Approve `digest`: get an assertion, check that it is for this credential's relying
    /// party, encode it for Kernel with `verifier`, and verify it as the contracts will.
    fn sign(
        &self,
        digest: B256,
        verifier: P256Verifier,
    ) -> Result<WebAuthnSignature, PasskeyError> {
        let credential = self.credential();
        let assertion = self.get_assertion(digest)?;
        assertion.check_rp_id(&credential.rp_id)?;
        let signature = WebAuthnSignature::from_assertion(&assertion, verifier)?;
        signature.verify(digest, &credential.key(), verifier)?;
        Ok(signature)
    }
}

impl<T: PasskeySigner + ?Sized> PasskeySigner for std::sync::Arc<T> {
    fn credential(&self) -> &PasskeyCredential {
        (**self).credential()
    }

    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError> {
        (**self).get_assertion(challenge)
    }
}

/// 32 bytes from the operating system's random source.
pub(crate) fn random_32() -> Result<[u8; 32], PasskeyError> {
    let mut out = [0u8; 32];
    getrandom::getrandom(&mut out).map_err(|e| PasskeyError::Random(e.to_string()))?;
    Ok(out)
}
