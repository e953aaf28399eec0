//! What a passkey registration gives: the credential id and its P-256 public key.

use alloy_primitives::{Bytes, U256};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    PasskeyError,
    assertion::{FLAG_UP, verifying_key},
    cbor::{self, Cbor},
};
use crate::kernel::WebAuthnKey;

/// authenticatorData flag: attested credential data included.
const FLAG_AT: u8 = 0x40;

/// A registered passkey: enough to install it on an account and to ask for it again.
///
/// ```
/// use namera::passkey::{PasskeySigner, SoftwarePasskey};
/// let passkey = SoftwarePasskey::from_secret(&[7u8; 32], b"cred".to_vec(), "localhost")?;
/// let credential = passkey.credential();
/// assert_eq!(credential.rp_id, "localhost");
/// assert_eq!(credential.key().authenticator_id_hash, alloy_primitives::keccak256(b"cred"));
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PasskeyCredential {
    /// The credential's raw id (what `allowCredentials` names).
    pub id: Bytes,
    /// The public key's x coordinate.
    pub x: U256,
    /// The public key's y coordinate.
    pub y: U256,
    /// The relying party the passkey belongs to (the site's domain, `localhost` for the
    /// local page).
    pub rp_id: String,
}

impl PasskeyCredential {
    /// A credential from its parts; the point must be on P-256.
    pub fn new(
        id: Bytes,
        x: U256,
        y: U256,
        rp_id: impl Into<String>,
    ) -> Result<Self, PasskeyError> {
        let credential = Self { id, x, y, rp_id: rp_id.into() };
        verifying_key(&credential.key())?;
        Ok(credential)
    }

    /// The key as the WebAuthn validator and signer take it.
    pub fn key(&self) -> WebAuthnKey {
        WebAuthnKey::new(self.x, self.y, &self.id)
    }

    /// The credential id as base64url without padding, as WebAuthn JSON writes it.
    pub fn id_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.id)
    }

    /// Read a registration (`navigator.credentials.create` result): check the
    /// clientDataJSON (type `webauthn.create`, our `challenge`, and `origin` when given),
    /// then take the credential id and the COSE P-256 key (ES256) from the
    /// attestationObject's authenticatorData, which must be for `rp_id` and match
    /// `raw_id`. The attestation statement is not judged (passkeys use `none`).
    pub fn from_registration(
        client_data_json: &str,
        attestation_object: &[u8],
        raw_id: &[u8],
        rp_id: &str,
        challenge: &[u8],
        origin: Option<&str>,
    ) -> Result<Self, PasskeyError> {
        let bad = |m: String| PasskeyError::Registration(m);
        let client: serde_json::Value = serde_json::from_str(client_data_json)
            .map_err(|e| bad(format!("clientDataJSON: {e}")))?;
        let field = |k: &str| client.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        if field("type") != "webauthn.create" {
            return Err(bad(format!(
                "clientDataJSON type is {:?}, not webauthn.create",
                field("type")
            )));
        }
        if field("challenge") != URL_SAFE_NO_PAD.encode(challenge) {
            return Err(bad("clientDataJSON challenge is not the one we asked for".into()));
        }
        if let Some(origin) = origin
            && field("origin") != origin
        {
            return Err(bad(format!("origin {:?}, expected {origin:?}", field("origin"))));
        }
        let (object, _) =
            cbor::decode(attestation_object).map_err(|e| bad(format!("attestationObject: {e}")))?;
        let Some(Cbor::Bytes(auth_data)) = object.get(&Cbor::Text("authData".into())) else {
            return Err(bad("attestationObject has no authData".into()));
        };
        let credential = Self::from_authenticator_data(auth_data, rp_id)?;
        if credential.id.as_ref() != raw_id {
            return Err(bad("the credential id in authenticatorData is not the rawId".into()));
        }
        Ok(credential)
    }

    /// Read the attested credential (id and COSE key) from registration
    /// authenticatorData: `rpIdHash ‖ flags ‖ signCount ‖ aaguid(16) ‖ idLength(2) ‖ id ‖
    /// COSE key`.
    pub fn from_authenticator_data(auth_data: &[u8], rp_id: &str) -> Result<Self, PasskeyError> {
        let bad = |m: &str| PasskeyError::Registration(m.into());
        if auth_data.len() < 55 {
            return Err(bad("authenticatorData too short for attested credential data"));
        }
        if auth_data[..32] != *Sha256::digest(rp_id.as_bytes()) {
            return Err(PasskeyError::RpIdMismatch { rp_id: rp_id.to_owned() });
        }
        let flags = auth_data[32];
        if flags & FLAG_UP == 0 {
            return Err(PasskeyError::UserNotPresent { flags });
        }
        if flags & FLAG_AT == 0 {
            return Err(bad("authenticatorData carries no attested credential (AT flag)"));
        }
        let id_len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
        let id = auth_data.get(55..55 + id_len).ok_or_else(|| bad("credential id truncated"))?;
        let cose = &auth_data[55 + id_len..];
        Self::from_cose_key(cose, id, rp_id)
    }

    /// Read a COSE_Key: EC2 (kty 2), ES256 (alg -7), P-256 (crv 1), 32-byte x and y.
    pub fn from_cose_key(cose: &[u8], id: &[u8], rp_id: &str) -> Result<Self, PasskeyError> {
        let bad = |m: String| PasskeyError::Registration(m);
        let (key, _) = cbor::decode(cose).map_err(|e| bad(format!("COSE key: {e}")))?;
        let int = |label| key.get_int(label).and_then(Cbor::as_int);
        if int(1) != Some(2) {
            return Err(bad(format!("COSE kty {:?}, not EC2 (2)", int(1))));
        }
        if int(3) != Some(-7) {
            return Err(bad(format!("COSE alg {:?}, not ES256 (-7)", int(3))));
        }
        if int(-1) != Some(1) {
            return Err(bad(format!("COSE crv {:?}, not P-256 (1)", int(-1))));
        }
        let coordinate = |label| match key.get_int(label) {
            Some(Cbor::Bytes(b)) if b.len() == 32 => Ok(U256::from_be_slice(b)),
            _ => Err(bad(format!("COSE coordinate {label} is not 32 bytes"))),
        };
        Self::new(Bytes::copy_from_slice(id), coordinate(-2)?, coordinate(-3)?, rp_id)
    }
}
