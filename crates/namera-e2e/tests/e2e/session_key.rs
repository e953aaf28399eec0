//! A session key installs itself on first use (enable mode) and acts plainly afterwards.

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{AccountError, SessionKeySigner, SmartAccount},
    kernel::{Call, LaneKey},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    session_key::{KeyState, issue, key_state, nonces, revoke_all_call, revoke_call},
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};

#[test]
fn sudo_session_key_enables_on_first_use_then_acts_plainly() {
    let (owner, account, _) = new_account(false, ether(1));
    let signer = issue_key(&owner, &account);

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

/// Issue a sudo session key for `account` (enable mode on first use).
fn issue_key(owner: &PrivateKeySigner, account: &SmartAccount) -> SessionKeySigner {
    let key = PrivateKeySigner::random();
    let permission =
        Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()]).unwrap();
    issue(owner, &[account], &permission, &key).unwrap().1.remove(0)
}

fn use_key(
    account: &namera::account::SmartAccount,
    signer: &mut SessionKeySigner,
    wei: u64,
) -> Result<(), namera::account::AccountError> {
    let receipt = account.execute(
        signer,
        &[Call::transfer(random_address(), U256::from(wei))],
        LaneKey::DEFAULT,
        RECEIPT_TIMEOUT,
    )?;
    assert!(receipt.success, "{receipt:?}");
    signer.mark_installed();
    Ok(())
}

#[test]
fn revoked_key_is_refused_and_status_says_so_while_another_key_works() {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let mut a = issue_key(&owner, &account);
    let mut b = issue_key(&owner, &account);
    let vid_a = a.permission().validation_id();
    assert_eq!(key_state(&account, vid_a).unwrap(), KeyState::PendingFirstUse, "undeployed");
    use_key(&account, &mut a, 1).unwrap();
    use_key(&account, &mut b, 2).unwrap();
    assert_eq!(key_state(&account, vid_a).unwrap(), KeyState::Installed { nonce: 1 });

    let revoke = revoke_call(account.address(), a.permission());
    let r = account.execute(&owner_signer, &[revoke], LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!(key_state(&account, vid_a).unwrap(), KeyState::Uninstalled);
    // Refused before anything is sent, and the SDK says why.
    match use_key(&account, &mut a, 3) {
        Err(AccountError::KeyRevoked { state: KeyState::Uninstalled }) => {}
        other => panic!("expected KeyRevoked(Uninstalled), got {other:?}"),
    }
    // The other key is untouched.
    assert_eq!(
        key_state(&account, b.permission().validation_id()).unwrap(),
        KeyState::Installed { nonce: 1 }
    );
    use_key(&account, &mut b, 4).unwrap();
}

#[test]
fn revoke_all_refuses_every_key_and_a_fresh_key_still_works() {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let mut keys = [issue_key(&owner, &account), issue_key(&owner, &account)];
    for (i, k) in keys.iter_mut().enumerate() {
        use_key(&account, k, i as u64 + 1).unwrap();
    }
    let (current, from) = nonces(&account).unwrap();
    let r = account
        .execute(
            &owner_signer,
            &[revoke_all_call(account.address(), current, from)],
            LaneKey::DEFAULT,
            RECEIPT_TIMEOUT,
        )
        .unwrap();
    assert!(r.success, "{r:?}");
    let (current_after, from_after) = nonces(&account).unwrap();
    assert_eq!((current_after, from_after), (current + 1, current + 1));
    for k in &mut keys {
        assert_eq!(
            key_state(&account, k.permission().validation_id()).unwrap(),
            KeyState::Invalidated { nonce: current, valid_nonce_from: current + 1 }
        );
        match use_key(&account, k, 9) {
            Err(AccountError::KeyRevoked { state: KeyState::Invalidated { .. } }) => {}
            other => panic!("expected KeyRevoked(Invalidated), got {other:?}"),
        }
    }
    // A key approved after revoke-all (with the new nonce) works.
    let mut fresh = issue_key(&owner, &account);
    use_key(&account, &mut fresh, 5).unwrap();
    assert_eq!(
        key_state(&account, fresh.permission().validation_id()).unwrap(),
        KeyState::Installed { nonce: current_after }
    );
}
