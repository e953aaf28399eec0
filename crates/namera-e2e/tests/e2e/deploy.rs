//! The first UserOperation deploys the account through the meta factory and sends value.

use alloy_primitives::{B256, U256, b256};
use namera::kernel::{Call, LaneKey};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};

/// `AccountDeployed(bytes32 userOpHash, address sender, address factory, address paymaster)`.
const ACCOUNT_DEPLOYED: B256 =
    b256!("0xd51a9c61267aa6196961883ecf5ff2da6619c37dac0fa92122513fb32c032d2d");

#[test]
fn first_user_operation_deploys_the_account_and_sends_value() {
    let (_owner, account, signer) = new_account(false, ether(1));
    let node = &account.chain().node;
    assert!(node.code(account.address()).unwrap().is_empty(), "starts undeployed");
    let recipient = random_address();
    let amount = U256::from(123_456_789_000u64);

    let sent =
        account.send(&signer, &[Call::transfer(recipient, amount)], LaneKey::DEFAULT).unwrap();
    assert_eq!(sent.operation.factory, Some(namera::kernel::addresses::META_FACTORY));
    let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap();

    assert!(receipt.success, "execution succeeded: {receipt:?}");
    assert_eq!(receipt.sender, account.address());
    assert_eq!(node.balance(recipient).unwrap(), amount, "exactly the amount arrived");
    assert!(!node.code(account.address()).unwrap().is_empty(), "account has code now");
    assert_eq!(account.kernel_nonce().unwrap(), 1);
    // Alto's UserOperation receipt omits AccountDeployed: read the bundle transaction.
    let tx = node.transaction_receipt(receipt.receipt.transaction_hash).unwrap().expect("mined");
    // Other tests' operations may share the bundle: pick this operation's event.
    let deployed = tx
        .logs
        .iter()
        .find(|l| {
            l.topics.first() == Some(&ACCOUNT_DEPLOYED) && l.topics.get(1) == Some(&sent.hash)
        })
        .expect("AccountDeployed event for this UserOperation");
    assert_eq!(&deployed.topics[2][12..], account.address().as_slice());
    // The account paid for itself: balance plus EntryPoint deposit (where the unused
    // prefund went) fell by exactly the amount plus the gas cost.
    let balance = node.balance(account.address()).unwrap();
    let deposit = node.entry_point_deposit(account.address()).unwrap();
    assert_eq!(balance + deposit, ether(1) - amount - receipt.actual_gas_cost);
}

#[test]
fn later_user_operations_use_the_deployed_account() {
    let (_owner, account, signer) = new_account(false, ether(1));
    let to = random_address();
    let r1 = account
        .execute(&signer, &[Call::transfer(to, U256::from(1))], LaneKey::DEFAULT, RECEIPT_TIMEOUT)
        .unwrap();
    assert!(r1.success);
    let sent = account
        .send(
            &signer,
            &[Call::transfer(to, U256::from(2)), Call::transfer(to, U256::from(3))],
            LaneKey::DEFAULT,
        )
        .unwrap();
    assert_eq!(sent.operation.factory, None, "no initCode once deployed");
    assert!(account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap().success);
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(6));
}
