//! A software authenticator: the passkey's P-256 secret is held by this process.
//!
//! For tests and headless servers only. A real passkey's secret never leaves its
//! authenticator (a phone, a security key, the OS keychain); this one lives in memory
//! (zeroized on drop) and wherever the caller stores [`SoftwarePasskey::secret`] (the
//! store crate encrypts it). Anyone who reads it can sign as the passkey.

use alloy_primitives::{B256, Bytes, U256};
use p256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    Assertion, PasskeyCredential, PasskeyError, PasskeySigner,
    assertion::{FLAG_UP, FLAG_UV, webauthn_message},
    challenge_text, random_32,
};

/// A P-256 passkey kept in software, answering assertions like a platform authenticator
/// with user verification.
///
/// ```
/// use namera::passkey::{PasskeySigner, SoftwarePasskey};
/// let passkey = SoftwarePasskey::generate("localhost")?;
/// let secret = passkey.secret(); // store it encrypted
/// let again = SoftwarePasskey::from_secret(&secret, passkey.credential().id.to_vec(), "localhost")?;
/// assert_eq!(again.credential(), passkey.credential());
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
pub struct SoftwarePasskey {
    /// `SigningKey` zeroizes its scalar when dropped.
    key: SigningKey,
    credential: PasskeyCredential,
}

impl std::fmt::Debug for SoftwarePasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwarePasskey")
            .field("credential", &self.credential)
            .field("key", &"<secret>")
            .finish()
    }
}

impl SoftwarePasskey {
    /// A new passkey for `rp_id` with a random secret and a random 32-byte credential id.
    pub fn generate(rp_id: &str) -> Result<Self, PasskeyError> {
        loop {
            let secret = Zeroizing::new(random_32()?);
            // About 2^-32 of 32-byte strings are not valid scalars: draw again.
            match Self::from_secret(&secret, random_32()?.to_vec(), rp_id) {
                Err(PasskeyError::InvalidSecret) => continue,
                other => return other,
            }
        }
    }

    /// The passkey whose P-256 secret scalar is `secret` (big-endian), registered under
    /// `credential_id` for `rp_id`.
    pub fn from_secret(
        secret: &[u8; 32],
        credential_id: Vec<u8>,
        rp_id: &str,
    ) -> Result<Self, PasskeyError> {
        let key = SigningKey::from_slice(secret).map_err(|_| PasskeyError::InvalidSecret)?;
        let point = key.verifying_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(PasskeyError::InvalidSecret);
        };
        let credential = PasskeyCredential {
            id: Bytes::from(credential_id),
            x: U256::from_be_slice(x),
            y: U256::from_be_slice(y),
            rp_id: rp_id.to_owned(),
        };
        Ok(Self { key, credential })
    }

    /// The secret scalar, for the caller to store (encrypted). Zeroized when dropped.
    pub fn secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes().into())
    }
}

impl PasskeySigner for SoftwarePasskey {
    fn credential(&self) -> &PasskeyCredential {
        &self.credential
    }

    /// An assertion as a browser would build it: authenticatorData for the rp id with UP
    /// and UV and a zero sign count (as synced passkeys report), clientDataJSON in the
    /// browser's field order, and a DER signature (deterministic, RFC 6979).
    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError> {
        let mut authenticator_data = Sha256::digest(self.credential.rp_id.as_bytes()).to_vec();
        authenticator_data.extend_from_slice(&[FLAG_UP | FLAG_UV, 0, 0, 0, 0]);
        let client_data_json = format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"https://{}","crossOrigin":false}}"#,
            challenge_text(challenge),
            self.credential.rp_id,
        );
        self.assertion_over(authenticator_data, client_data_json)
    }
}

impl SoftwarePasskey {
    /// Sign exactly these authenticatorData and clientDataJSON bytes, whatever they say:
    /// what a faulty or hostile authenticator could return. Tests use it to build
    /// assertions that are validly signed yet break one rule.
    pub fn assertion_over(
        &self,
        authenticator_data: Vec<u8>,
        client_data_json: String,
    ) -> Result<Assertion, PasskeyError> {
        let message = webauthn_message(&authenticator_data, &client_data_json);
        let signature: Signature = self
            .key
            .sign_prehash(message.as_slice())
            .map_err(|e| PasskeyError::SignatureEncoding(e.to_string()))?;
        Ok(Assertion {
            authenticator_data: authenticator_data.into(),
            client_data_json,
            signature: Bytes::copy_from_slice(signature.to_der().as_bytes()),
        })
    }
}
