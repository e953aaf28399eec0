//! The Kernel WebAuthn signature: from a WebAuthn assertion to the bytes the validator and
//! the signer decode, and the same checks they make, run before sending.

use alloy_primitives::{B256, Bytes, U256, uint};
use alloy_sol_types::SolValue;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use sha2::{Digest, Sha256};

use super::{P256Verifier, PasskeyError};
use crate::kernel::WebAuthnKey;

/// authenticatorData flag: user present.
pub const FLAG_UP: u8 = 0x01;
/// authenticatorData flag: user verified.
pub const FLAG_UV: u8 = 0x04;
/// authenticatorData flag: backup eligible.
pub const FLAG_BE: u8 = 0x08;
/// authenticatorData flag: backed up.
pub const FLAG_BS: u8 = 0x10;

/// What `responseTypeLocation` must point at.
pub const TYPE_GET: &str = r#""type":"webauthn.get""#;

/// Where the contracts look for `"challenge":"`: right after `{"type":"webauthn.get",`.
pub const CHALLENGE_OFFSET: usize = 23;

/// The P-256 group order n.
const N: U256 = uint!(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551_U256);

/// The WebAuthn challenge text for a digest: base64url without padding.
///
/// ```
/// use alloy_primitives::B256;
/// assert_eq!(namera::passkey::challenge_text(B256::ZERO), "A".repeat(43));
/// ```
pub fn challenge_text(digest: B256) -> String {
    URL_SAFE_NO_PAD.encode(digest)
}

/// The message a passkey signs: `sha256(authenticatorData ‖ sha256(clientDataJSON))`.
pub fn webauthn_message(authenticator_data: &[u8], client_data_json: &str) -> B256 {
    let mut hasher = Sha256::new();
    hasher.update(authenticator_data);
    hasher.update(Sha256::digest(client_data_json.as_bytes()));
    B256::from_slice(&hasher.finalize())
}

/// A WebAuthn assertion as an authenticator returns it (`AuthenticatorAssertionResponse`).
///
/// ```
/// use alloy_primitives::B256;
/// use namera::passkey::{PasskeySigner, SoftwarePasskey};
/// let passkey = SoftwarePasskey::from_secret(&[7u8; 32], b"id".to_vec(), "localhost")?;
/// let a = passkey.get_assertion(B256::ZERO)?;
/// assert_eq!(a.authenticator_data.len(), 37);
/// assert_eq!(a.signature[0], 0x30, "DER, as a browser returns it");
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// `rpIdHash(32) ‖ flags(1) ‖ signCount(4) ‖ extensions…`.
    pub authenticator_data: Bytes,
    /// The client data, exactly as the browser serialized it (it is hashed as is).
    pub client_data_json: String,
    /// The ASN.1 DER ECDSA signature over [`webauthn_message`].
    pub signature: Bytes,
}

impl Assertion {
    /// Check that the assertion is for `rp_id` (the contracts do not look at the rpIdHash;
    /// we do, so a passkey of another site is never taken for ours).
    pub fn check_rp_id(&self, rp_id: &str) -> Result<(), PasskeyError> {
        let head =
            self.authenticator_data.get(..32).ok_or(PasskeyError::AuthenticatorDataTooShort {
                len: self.authenticator_data.len(),
            })?;
        if head[..] != Sha256::digest(rp_id.as_bytes())[..] {
            return Err(PasskeyError::RpIdMismatch { rp_id: rp_id.to_owned() });
        }
        Ok(())
    }
}

/// The signature Kernel's WebAuthn validator and WebAuthnSigner decode:
/// `abi.encode(bytes authenticatorData, string clientDataJSON, uint256 responseTypeLocation,
/// uint256 r, uint256 s, bool usePrecompiled)`.
///
/// Fields are public and unchecked so that any signature can be represented (and
/// refused); [`Self::verify`] is the gate.
///
/// ```
/// use alloy_primitives::{B256, U256};
/// use namera::passkey::{P256Verifier, PasskeySigner, SoftwarePasskey, WebAuthnSignature};
/// let passkey = SoftwarePasskey::from_secret(&[7u8; 32], b"id".to_vec(), "localhost")?;
/// let digest = B256::repeat_byte(1);
/// let sig = WebAuthnSignature::from_assertion(
///     &passkey.get_assertion(digest)?,
///     P256Verifier::Precompile,
/// )?;
/// assert_eq!(WebAuthnSignature::decode(&sig.encode())?, sig);
/// let key = passkey.credential().key();
/// assert!(sig.verify(digest, &key, P256Verifier::Precompile).is_ok());
/// assert!(sig.verify(B256::ZERO, &key, P256Verifier::Precompile).is_err());
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuthnSignature {
    /// authenticatorData as signed.
    pub authenticator_data: Bytes,
    /// clientDataJSON as signed.
    pub client_data_json: String,
    /// Byte index of `"type":"webauthn.get"` in clientDataJSON.
    pub response_type_location: U256,
    /// ECDSA r.
    pub r: U256,
    /// ECDSA s, at most n/2.
    pub s: U256,
    /// Verify with the precompile (true) or Daimo's verifier (false).
    pub use_precompiled: bool,
}

impl WebAuthnSignature {
    /// Encode an assertion: the DER signature becomes `(r, s)` with `s` moved to the low
    /// half (`n - s`, an equally valid signature: authenticators return either half, the
    /// contracts accept only the low one), and `responseTypeLocation` is where
    /// `"type":"webauthn.get"` is. The result is not yet checked against a digest or
    /// key: [`Self::verify`] does that.
    pub fn from_assertion(
        assertion: &Assertion,
        verifier: P256Verifier,
    ) -> Result<Self, PasskeyError> {
        let signature = Signature::from_der(&assertion.signature)
            .map_err(|e| PasskeyError::SignatureEncoding(e.to_string()))?;
        let signature = signature.normalize_s().unwrap_or(signature);
        let (r, s) = signature.split_bytes();
        let location = assertion
            .client_data_json
            .find(TYPE_GET)
            .ok_or_else(|| not_an_assertion(&assertion.client_data_json))?;
        Ok(Self {
            authenticator_data: assertion.authenticator_data.clone(),
            client_data_json: assertion.client_data_json.clone(),
            response_type_location: U256::from(location),
            r: U256::from_be_slice(&r),
            s: U256::from_be_slice(&s),
            use_precompiled: verifier.use_precompiled(),
        })
    }

    /// The ABI encoding that goes into the UserOperation (after `0xff` for a permission).
    pub fn encode(&self) -> Bytes {
        (
            self.authenticator_data.clone(),
            self.client_data_json.clone(),
            self.response_type_location,
            self.r,
            self.s,
            self.use_precompiled,
        )
            .abi_encode_params()
            .into()
    }

    /// Read an encoded signature back.
    pub fn decode(data: &[u8]) -> Result<Self, PasskeyError> {
        let (authenticator_data, client_data_json, response_type_location, r, s, use_precompiled) =
            <(Bytes, String, U256, U256, U256, bool)>::abi_decode_params(data)
                .map_err(|e| PasskeyError::NotKernelEncoding(e.to_string()))?;
        Ok(Self {
            authenticator_data,
            client_data_json,
            response_type_location,
            r,
            s,
            use_precompiled,
        })
    }

    /// The message the passkey signed.
    pub fn message(&self) -> B256 {
        webauthn_message(&self.authenticator_data, &self.client_data_json)
    }

    /// Every check the WebAuthn validator and signer make, in Rust, with the first failing
    /// one named: authenticatorData length and flags (UP, UV, not BS without BE), the type
    /// at `responseTypeLocation`, the challenge (base64url of `digest`) at byte 23, the
    /// verifier the chain uses, `r` and `s` in range with `s <= n/2`, and the P-256
    /// signature under `key`.
    pub fn verify(
        &self,
        digest: B256,
        key: &WebAuthnKey,
        verifier: P256Verifier,
    ) -> Result<(), PasskeyError> {
        let data = &self.authenticator_data;
        let flags = *data
            .get(32)
            .filter(|_| data.len() >= 37)
            .ok_or(PasskeyError::AuthenticatorDataTooShort { len: data.len() })?;
        if flags & FLAG_UP == 0 {
            return Err(PasskeyError::UserNotPresent { flags });
        }
        if flags & FLAG_UV == 0 {
            return Err(PasskeyError::UserNotVerified { flags });
        }
        if flags & FLAG_BS != 0 && flags & FLAG_BE == 0 {
            return Err(PasskeyError::BackupStateWithoutEligibility { flags });
        }
        let json = &self.client_data_json;
        let actual = json.find(TYPE_GET).ok_or_else(|| not_an_assertion(json))?;
        let at = usize::try_from(self.response_type_location).ok();
        if at.and_then(|at| json.get(at..)).is_none_or(|rest| !rest.starts_with(TYPE_GET)) {
            return Err(PasskeyError::ResponseTypeLocation {
                given: self.response_type_location,
                actual,
            });
        }
        let expected = challenge_text(digest);
        let needle = format!(r#""challenge":"{expected}""#);
        if json.get(CHALLENGE_OFFSET..).is_none_or(|rest| !rest.starts_with(&needle)) {
            return Err(match json.find(&needle) {
                Some(found) => PasskeyError::ChallengeOffset { found },
                None => PasskeyError::ChallengeMismatch {
                    expected,
                    found: json_field(json, "challenge"),
                },
            });
        }
        let signature =
            if self.use_precompiled { P256Verifier::Precompile } else { P256Verifier::Daimo };
        if signature != verifier {
            return Err(PasskeyError::WrongVerifier { signature, chain: verifier });
        }
        if self.r.is_zero() || self.r >= N || self.s.is_zero() || self.s >= N {
            return Err(PasskeyError::ScalarOutOfRange);
        }
        if self.s > N >> 1 {
            return Err(PasskeyError::HighS);
        }
        let public = verifying_key(key)?;
        let sig = Signature::from_scalars(self.r.to_be_bytes::<32>(), self.s.to_be_bytes::<32>())
            .map_err(|_| PasskeyError::ScalarOutOfRange)?;
        public
            .verify_prehash(self.message().as_slice(), &sig)
            .map_err(|_| PasskeyError::BadSignature)
    }
}

/// The P-256 public key of a [`WebAuthnKey`], checked to be on the curve.
pub(crate) fn verifying_key(key: &WebAuthnKey) -> Result<VerifyingKey, PasskeyError> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..33].copy_from_slice(&key.x.to_be_bytes::<32>());
    sec1[33..].copy_from_slice(&key.y.to_be_bytes::<32>());
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| PasskeyError::InvalidPublicKey)
}

fn json_field(json: &str, field: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(json).ok()?.get(field)?.as_str().map(str::to_owned)
}

fn not_an_assertion(json: &str) -> PasskeyError {
    PasskeyError::NotAnAssertion { found: json_field(json, "type") }
}

/// A signature of the right shape and size for gas estimation, for either the owner or a
/// session key: a full-length clientDataJSON (longer than browsers write, so the estimate
/// covers the real one) and `responseTypeLocation = 2^256-1`, which the contracts treat as
/// the estimation dummy: they run the curve check and report failure without reverting.
pub fn stub_signature(verifier: P256Verifier) -> Bytes {
    let mut authenticator_data = vec![0x49; 32];
    authenticator_data.extend_from_slice(&[FLAG_UP | FLAG_UV, 0, 0, 0, 1]);
    let origin = format!("https://{}", "x".repeat(64));
    let client_data_json = format!(
        r#"{{"type":"webauthn.get","challenge":"{}","origin":"{origin}","crossOrigin":false,"other_keys_can_be_added_here":"{}"}}"#,
        "A".repeat(43),
        "x".repeat(96),
    );
    WebAuthnSignature {
        authenticator_data: authenticator_data.into(),
        client_data_json,
        response_type_location: U256::MAX,
        r: N >> 2,
        s: N >> 3,
        use_precompiled: verifier.use_precompiled(),
    }
    .encode()
}
