//! The systemd units: `systemd-analyze verify` accepts them, and every ExecStart is a command
//! line this mailroom understands (a renamed flag must not break a timer silently).

mod common;

use clap::Parser;

#[test]
fn systemd_analyze_verify_accepts_every_unit() {
    let out = std::process::Command::new(common::root().join("scripts/verify-systemd.sh")).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), common::stderr(&out));
}

#[test]
fn every_exec_start_parses_with_the_current_cli() {
    let mut checked = 0;
    for entry in std::fs::read_dir(common::root().join("systemd")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "service") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| l.starts_with("ExecStart=")) {
            let words: Vec<&str> = line.trim_start_matches("ExecStart=").split_whitespace().collect();
            assert!(words[0].ends_with("/mailroom"), "{}: {line}", path.display());
            let mut argv = vec!["mailroom"];
            argv.extend(&words[1..]);
            if let Err(e) = mailroom::cli::Cli::try_parse_from(&argv) {
                panic!("{}: `{}` does not parse: {e}", path.display(), argv.join(" "));
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} ExecStart lines found");
}
