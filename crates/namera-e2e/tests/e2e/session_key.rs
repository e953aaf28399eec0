//! A session key installs itself on first use (enable mode) and acts plainly afterwards.

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::SessionKeySigner,
    kernel::{Call, LaneKey},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    session_key::{ChainNonce, OwnerApproval},
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};

#[test]
fn sudo_session_key_enables_on_first_use_then_acts_plainly() {
    let (owner, account, _) = new_account(false, ether(1));
    let key = PrivateKeySigner::random();
    let permission =
        Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()]).unwrap();
    let chain = ChainNonce {
        chain_id: account.chain().chain_id,
        kernel_nonce: account.kernel_nonce().unwrap(),
    };
    let approval =
        OwnerApproval::sign_single_chain(&owner, account.config(), &permission, chain).unwrap();
    let mut signer = SessionKeySigner::enabling(
        key,
        permission,
        chain.kernel_nonce,
        approval.chains[0].enable_signature.clone(),
    );

    let to = random_address();
    let first = account
        .execute(&signer, &[Call::transfer(to, U256::from(7))], LaneKey::DEFAULT, RECEIPT_TIMEOUT)
        .unwrap();
    assert!(first.success, "{first:?}");
    signer.mark_installed();
    let second = account
        .execute(&signer, &[Call::transfer(to, U256::from(8))], LaneKey::DEFAULT, RECEIPT_TIMEOUT)
        .unwrap();
    assert!(second.success, "{second:?}");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(15));
}
