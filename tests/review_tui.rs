//! The interactive `mailroom review`, driven through a real pseudo-terminal with tmux
//! (send-keys to type, capture-pane to read the screen), as a person would use it.
//!
//! Needs Debian's `tmux` (scripts/install-deps.sh installs it).

mod common;
mod reviewkit;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Env;
use reviewkit::{Seed, draft_events, draft_state, seed};

/// A tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn start(dir: &Path, script: &Path) -> Tmux {
        let socket = dir.join("tmux.sock");
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["new-session", "-d", "-s", "review", "-x", "110", "-y", "60"])
            .arg(script)
            .status()
            .expect("tmux must be installed (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux").arg("-S").arg(&self.socket).args(["send-keys", "-t", "review"]).args(keys).status().unwrap();
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").arg("-S").arg(&self.socket).args(["capture-pane", "-p", "-t", "review"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; fails with the screen otherwise.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("the screen never showed {text:?}; it shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").status();
    }
}

#[test]
fn approve_edit_reject_recategorize_handle_and_skip_from_the_keyboard() {
    let env = Env::new();
    let a = seed(&env.ledger(), &Seed { subject: "Chargeback threat", priority: "P1", category: "payment", risk: "high", ..Seed::default() });
    let b = seed(&env.ledger(), &Seed { subject: "Parcel late", priority: "P2", ..Seed::default() });
    let c = seed(&env.ledger(), &Seed { subject: "Wrong size", priority: "P3", category: "return", missing: &["order number"], ..Seed::default() });
    let d = seed(&env.ledger(), &Seed { subject: "Just a question", priority: "P4", category: "product", ..Seed::default() });

    // The editor is a script that changes the file, as a person in vim would.
    let script = env.path().join("review.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexport MAILROOM_USER=tui-tester NO_COLOR=1 TERM=xterm RUST_BACKTRACE=0\n\
             export EDITOR=\"sed -i 's/is on its way/left our warehouse today/'\"\n\
             unset MAILROOM_CONFIG VISUAL\n\
             '{}' --ledger '{}' review\necho \"EXIT STATUS $?\"\nsleep 60\n",
            common::bin().display(),
            env.ledger().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tmux = Tmux::start(env.path(), &script);

    // Most urgent first: the P1, with its message, draft, reasons and history on screen.
    let screen = tmux.wait_for("1 of 4 pending");
    for want in ["P1 · payment · risk high · pending", "Subject   Chargeback threat", "Draft reply — Re: Chargeback threat",
                 "Your parcel is on its way.", "triage: keywords point to payment", "draft.created", "[a]pprove"] {
        assert!(screen.contains(want), "missing {want:?} in:\n{screen}");
    }

    // e: edit in $EDITOR; the new text is shown and saved; a: approve.
    tmux.keys(&["e"]);
    let screen = tmux.wait_for("edit saved");
    assert!(screen.contains("Your parcel left our warehouse today."), "{screen}");
    tmux.keys(&["a"]);
    let screen = tmux.wait_for("approved ");
    assert!(screen.contains("Subject   Parcel late"), "the P2 comes next:\n{screen}");

    // r: reject, with a typed reason.
    tmux.keys(&["r"]);
    tmux.wait_for("Reason for rejecting");
    tmux.keys(&["customer already called", "Enter"]);
    let screen = tmux.wait_for("rejected ");
    assert!(screen.contains("Subject   Wrong size"), "{screen}");
    assert!(screen.contains("☐ order number"), "the checklist shows: {screen}");

    // c: recategorize by number (2 = refund), then h: handled with a note.
    tmux.keys(&["c"]);
    tmux.wait_for("New category");
    tmux.keys(&["2", "Enter"]);
    let screen = tmux.wait_for("now refund");
    assert!(screen.contains("P3 · refund ·"), "{screen}");
    tmux.keys(&["h"]);
    tmux.wait_for("How was it handled?");
    tmux.keys(&["exchanged in the shop", "Enter"]);
    let screen = tmux.wait_for("Subject   Just a question");
    assert!(screen.contains("1 of 1 pending"), "{screen}");

    // s: skip the last one; the session ends with a summary.
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("EXIT STATUS");
    assert!(screen.contains("3 decided this session, 1 still pending (1 skipped)."), "{screen}");
    assert!(screen.contains("EXIT STATUS 0"), "{screen}");

    let ledger = env.ledger();
    let (state, by, _, body) = draft_state(&ledger, &a.draft);
    assert_eq!((state.as_str(), by.as_deref()), ("approved", Some("tui-tester")));
    assert!(body.contains("Your parcel left our warehouse today."), "{body}");
    assert_eq!(
        draft_events(&ledger, &a.draft),
        [
            ("draft.created".to_string(), None),
            ("draft.edited".into(), Some("tui-tester".into())),
            ("draft.approved".into(), Some("tui-tester".into()))
        ]
    );
    let (state, by, reason, _) = draft_state(&ledger, &b.draft);
    assert_eq!((state.as_str(), by.as_deref(), reason.as_deref()), ("rejected", Some("tui-tester"), Some("customer already called")));
    let (state, _, reason, _) = draft_state(&ledger, &c.draft);
    assert_eq!((state.as_str(), reason.as_deref()), ("handled", Some("exchanged in the shop")));
    assert_eq!(env.count(&format!("SELECT COUNT(*) FROM labels WHERE message = '{}' AND label = 'refund'", c.message)), 1);
    assert_eq!(draft_state(&ledger, &d.draft).0, "pending");
}

#[test]
fn quitting_restores_the_terminal() {
    let env = Env::new();
    seed(&env.ledger(), &Seed::default());
    let script = env.path().join("review.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexport MAILROOM_USER=t NO_COLOR=1 TERM=xterm\n'{}' --ledger '{}' review\n\
             echo \"EXIT STATUS $?\"; stty -a | grep -o -- '-\\?icanon' ; stty -a | grep -o -- '-\\?echo ' ; echo STTY-DONE; sleep 60\n",
            common::bin().display(),
            env.ledger().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tmux = Tmux::start(env.path(), &script);
    tmux.wait_for("1 of 1 pending");
    tmux.keys(&["C-c"]);
    // Wait for the stty report itself, not only the exit line before it.
    let screen = tmux.wait_for("STTY-DONE");
    let after = screen.split("EXIT STATUS 0").nth(1).unwrap_or_else(|| panic!("no exit status 0: {screen}"));
    assert!(after.contains("icanon") && !after.contains("-icanon"), "line editing is back on: {after}");
    assert!(after.contains("echo") && !after.contains("-echo "), "echo is back on: {after}");
    assert!(screen.contains("0 decided this session, 1 still pending."), "{screen}");
}
