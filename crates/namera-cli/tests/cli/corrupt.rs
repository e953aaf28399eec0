//! Damaged files (issue 13): one truncated record no longer breaks `list` and can be
//! removed; a damaged keystore MAC is reported as "wrong password, or the file is
//! damaged"; temporary files a killed writer left behind are swept.

use crate::support::{Home, assert_exit, assert_result_valid, error_of, json, text};

const PW: (&str, &str) = ("TEST_PASSWORD", "correct horse battery staple");

fn keystore(home: &Home, alias: &str) {
    let out = home.run(
        &["keystore", "create", "--alias", alias, "--light-kdf", "--password-env", "TEST_PASSWORD"],
        &[PW],
    );
    assert_exit(&out, 0);
}

#[test]
fn a_truncated_record_is_listed_apart_and_can_be_removed() {
    let home = Home::new("truncated");
    keystore(&home, "good");
    keystore(&home, "bad");
    let bad = home.path.join("keystores/bad.json");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = home.run(&["keystore", "list", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("keystore.list", "json", &out.stdout);
    let listed = json(&out.stdout);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["alias"], "good");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("keystore bad is unreadable"), "{stderr}");
    assert!(stderr.contains("`namera keystore remove bad` deletes it"), "{stderr}");
    let out = home.run(&["keystore", "remove", "bad", "--yes", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_eq!(json(&out.stdout)["removed"], "bad");
    assert!(!bad.exists());

    // The same for a smart account record, which `keystore remove` also reads.
    let out = home.run(
        &["smart-account", "create", "--alias", "acc", "--keystore", "good", "--chain", "local"],
        &[],
    );
    assert_exit(&out, 0);
    let acc = home.path.join("smart-accounts/acc.json");
    std::fs::write(&acc, b"{\"address\": \"0x12").unwrap();
    let out = home.run(&["smart-account", "list", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_eq!(json(&out.stdout), serde_json::json!([]));
    let out = home.run(&["smart-account", "remove", "acc", "--yes", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("smart-account.remove", "json", &out.stdout);
    assert_eq!(json(&out.stdout)["address"], serde_json::Value::Null);
    assert!(!acc.exists());
}

#[test]
fn a_damaged_mac_is_not_only_a_wrong_password() {
    let home = Home::new("damaged-mac");
    keystore(&home, "k");
    let path = home.path.join("keystores/k.json");
    let mut file: serde_json::Value = json(&std::fs::read(&path).unwrap());
    let mac = file["crypto"]["mac"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}", if mac.starts_with('0') { "1" } else { "0" }, &mac[1..]);
    file["crypto"]["mac"] = flipped.into();
    std::fs::write(&path, file.to_string()).unwrap();
    let out = home.run(
        &[
            "keystore",
            "export",
            "k",
            "--private-key",
            "--password-env",
            "TEST_PASSWORD",
            "-o",
            "json",
        ],
        &[PW],
    );
    assert_exit(&out, 4);
    let e = error_of(&out);
    assert!(e["message"].as_str().unwrap().contains("or the keystore file is damaged"), "{e}");
}

#[test]
fn temporary_files_left_by_a_killed_write_are_swept() {
    let home = Home::new("stale-tmp");
    keystore(&home, "k");
    let dir = home.path.join("keystores");
    let stale = dir.join(".k2.json.00112233aabbccdd.tmp");
    std::fs::write(&stale, b"{\"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();
    let out = home.run(&["keystore", "list"], &[]);
    assert_exit(&out, 0);
    assert!(!stale.exists(), "swept by list");
}
