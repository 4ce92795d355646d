//! Promises about hostile input: malformed, gigantic or deliberately nasty mail and JSONL never
//! makes mailroom panic, hang or eat the machine's memory. A bad item gets a clear error that
//! says where it is, and the rest of the batch goes on. The exact bytes of every message stay
//! in the ledger, whatever could be read from them.
//!
//! Memory is the peak resident set of the `mailroom` process, measured with `/usr/bin/time`.

mod common;
mod promisekit;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Env, jsonl, shared_data, stderr};
use mailroom::ledger::Ledger;
use promisekit::{assert_sound, run_measured, run_within};

const LIMIT: Duration = Duration::from_secs(180);

/// The counts a run recorded in the ledger (`runs.counts_json` of its last run of `command`).
fn counts(env: &Env, command: &str) -> serde_json::Value {
    let json: String = env
        .db()
        .query_row("SELECT counts_json FROM runs WHERE command = ?1 ORDER BY id DESC LIMIT 1", [command], |r| r.get(0))
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

fn no_panic(out: &std::process::Output, what: &str) {
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {}", stderr(out));
    assert!(out.status.code().is_some(), "{what} was killed by a signal: {:?}", out.status);
    assert!(!stderr(out).contains("panicked"), "{what} panicked: {}", stderr(out));
}

/// Imports `files` as .eml, takes what came out through filter (all records), classify and
/// draft, and lists the review queue; returns the imported records.
fn through_the_chain(env: &Env, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let mut cmd = env.cmd(&["fetch", "--eml"]);
    cmd.args(files);
    let fetch = run_within(cmd, b"", LIMIT);
    no_panic(&fetch, "fetch");
    let records = jsonl(&fetch.stdout);
    let mut input = fetch.stdout.clone();
    for stage in [&["filter", "--all", "--quiet"][..], &["classify", "--quiet"], &["draft", "--quiet"]] {
        let out = run_within(env.cmd(stage), &input, LIMIT);
        no_panic(&out, stage[0]);
        assert!(out.status.success(), "{}: {}", stage[0], stderr(&out));
        assert_eq!(jsonl(&out.stdout).len(), records.len(), "{} passes every record on", stage[0]);
        input = out.stdout;
    }
    for args in [&["review", "list", "--json"][..], &["digest", "--format", "json"], &["export"]] {
        let out = run_within(env.cmd(args), b"", LIMIT);
        no_panic(&out, args[0]);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    records
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_file_of_the_shared_mime_corpus_goes_through_the_chain_without_a_panic_or_a_hang() {
    let env = Env::new();
    let files = files_under(&shared_data().join("mime"));
    assert!(files.len() > 500, "the corpus is there ({} files)", files.len());
    let records = through_the_chain(&env, &files);
    let c = counts(&env, "fetch");
    let (seen, unreadable) = (c["seen"].as_u64().unwrap(), c["unreadable"].as_u64().unwrap());
    assert_eq!(seen + unreadable, files.len() as u64, "every file is a message or a reported error: {c}");
    assert_eq!(records.len() as u64, c["new"].as_u64().unwrap());
    assert!(unreadable < 30, "only empty files are unreadable: {c}");
    for r in &records {
        assert!(r["id"].as_str().is_some_and(|id| id.starts_with('m')), "{r}");
    }
    let ledger = Ledger::open(&env.ledger()).unwrap();
    for (r, _) in records.iter().zip(0..20) {
        assert!(ledger.raw(r["id"].as_str().unwrap()).unwrap().is_some(), "the exact bytes are kept");
    }
    assert_sound(&env.ledger());
}

#[test]
fn the_mime_corpus_as_one_mbox_is_imported_without_a_panic() {
    let env = Env::new();
    let mut mbox = Vec::new();
    for f in files_under(&shared_data().join("mime")) {
        mbox.extend_from_slice(b"From corpus@example.com Mon Nov  2 10:00:00 2026\n");
        mbox.extend(std::fs::read(&f).unwrap());
        mbox.extend_from_slice(b"\n\n");
    }
    let path = env.path().join("corpus.mbox");
    std::fs::write(&path, mbox).unwrap();
    let out = run_within(env.cmd(&["fetch", "--mbox", path.to_str().unwrap()]), b"", LIMIT);
    no_panic(&out, "fetch --mbox");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(jsonl(&out.stdout).len() > 500);
    assert_sound(&env.ledger());
}

/// A message of about `mib` MiB: a short text and a base64 attachment of random bytes.
fn big_message(mib: usize) -> Vec<u8> {
    use base64::Engine;
    use rand::RngCore;
    let mut payload = vec![0u8; mib * 1024 * 1024 * 3 / 4];
    rand::rng().fill_bytes(&mut payload);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut m = b"From: Big Sender <big@shop.example>\r\nTo: support@shop.example\r\nSubject: photos of the damage\r\n\
Message-ID: <big@shop.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, the photos are attached. Order NW-48213.\r\n\
--X\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"photos.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    for line in encoded.as_bytes().chunks(76) {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--X--\r\n");
    m
}

#[test]
fn a_50_mb_message_is_stored_whole_parsed_capped_and_flagged_huge_in_bounded_memory() {
    let env = Env::new();
    let raw = big_message(50);
    let file = env.path().join("big.eml");
    std::fs::write(&file, &raw).unwrap();
    let (out, mib) = run_measured(&env.cmd(&["fetch", "--eml", file.to_str().unwrap()]), b"", env.path());
    eprintln!("fetch of a {} MB message: peak {mib} MiB", raw.len() >> 20);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(mib < 300, "peak memory {mib} MiB for a 50 MB message");
    let record = &jsonl(&out.stdout)[0];
    assert!(record["flags"].as_array().unwrap().iter().any(|f| f == "huge"), "{record}");
    assert_eq!(record["subject"], "photos of the damage");
    assert!(record["text"].as_str().unwrap().contains("NW-48213"));
    let stored = Ledger::open(&env.ledger()).unwrap().raw(record["id"].as_str().unwrap()).unwrap().unwrap();
    assert!(stored == raw, "stored whole, byte for byte");

    let (draft, mib) = run_measured(&env.cmd(&["draft", "--quiet"]), &out.stdout, env.path());
    assert!(draft.status.success(), "{}", stderr(&draft));
    assert!(mib < 300, "draft peak memory {mib} MiB");
    assert_sound(&env.ledger());
}

/// Writes `name` with `head` (header lines), a blank line and a short body.
fn write_message(dir: &Path, name: &str, head: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{head}\r\nHello, where is order NW-48213?\r\n")).unwrap();
    path
}

#[test]
fn messages_with_100000_header_lines_import_in_bounded_time_and_memory() {
    let env = Env::new();
    let n = 100_000;
    let many: String = (0..n).map(|i| format!("X-Header-{i}: value {i}\r\n")).collect();
    let folded: String = (0..n).map(|i| format!(" continuation {i}\r\n")).collect();
    let recipients: Vec<String> = (0..n).map(|i| format!("u{i}@example.com")).collect();
    let received: String = (0..n).map(|i| format!("Received: from h{i} by mx; Mon, 2 Nov 2026 10:00:00 +0000\r\n")).collect();
    let words: Vec<&str> = (0..n).map(|_| "=?utf-8?q?a=C3=A9?=").collect();
    let files = vec![
        write_message(env.path(), "many.eml", &format!("From: a@b.c\r\nSubject: many headers\r\n{many}")),
        write_message(env.path(), "folded.eml", &format!("From: a@b.c\r\nSubject: start\r\n{folded}")),
        write_message(env.path(), "to.eml", &format!("From: a@b.c\r\nSubject: to all\r\nTo: {}\r\n", recipients.join(",\r\n "))),
        write_message(env.path(), "received.eml", &format!("{received}From: a@b.c\r\nSubject: hops\r\n")),
        write_message(env.path(), "words.eml", &format!("From: a@b.c\r\nSubject: {}\r\n", words.join(" "))),
    ];
    let mut records = Vec::new();
    for f in &files {
        let (out, mib) = run_measured(&env.cmd(&["fetch", "--eml", f.to_str().unwrap()]), b"", env.path());
        eprintln!("{}: peak {mib} MiB", f.display());
        assert!(out.status.success(), "{}: {}", f.display(), stderr(&out));
        assert!(mib < 200, "{}: peak memory {mib} MiB", f.display());
        assert_eq!(jsonl(&out.stdout).len(), 1);
        records.extend(out.stdout);
    }
    let subjects: Vec<String> = jsonl(&records).iter().map(|r| r["subject"].as_str().unwrap().chars().take(12).collect()).collect();
    assert_eq!(subjects[..4], ["many headers", "start contin", "to all", "hops"]);
    let (draft, mib) = run_measured(&env.cmd(&["draft", "--quiet"]), &records, env.path());
    assert!(draft.status.success(), "{}", stderr(&draft));
    assert!(mib < 200, "draft peak memory {mib} MiB");
    let list = run_within(env.cmd(&["review", "list", "--json"]), b"", LIMIT);
    assert_eq!(jsonl(&list.stdout).len(), 5);
    assert_sound(&env.ledger());
}

#[test]
fn a_zip_of_zeros_attachment_is_listed_and_never_expanded() {
    use base64::Engine;
    let env = Env::new();
    let zip = std::fs::read(common::root().join("tests/fixtures/zeros-256mib.zip")).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&zip);
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let file = env.path().join("zip.eml");
    std::fs::write(
        &file,
        format!(
            "From: a@b.c\r\nSubject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"Z\"\r\n\r\n\
             --Z\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n--Z\r\nContent-Type: application/zip\r\n\
             Content-Disposition: attachment; filename=\"invoice.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--Z--\r\n",
            lines.join("\r\n")
        ),
    )
    .unwrap();
    let (out, mib) = run_measured(&env.cmd(&["fetch", "--eml", file.to_str().unwrap()]), b"", env.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(mib < 100, "peak memory {mib} MiB: the zip was expanded");
    let record = &jsonl(&out.stdout)[0];
    let attachment = &record["attachments"][0];
    assert_eq!(attachment["filename"], "invoice.zip");
    assert_eq!(attachment["content_type"], "application/zip");
    assert_eq!(attachment["size"], zip.len() as u64, "the size is the file's, not its contents'");
    let (draft, mib) = run_measured(&env.cmd(&["draft", "--quiet"]), &out.stdout, env.path());
    assert!(draft.status.success() && mib < 100, "draft: {mib} MiB, {}", stderr(&draft));
}

#[test]
fn invalid_utf8_everywhere_gives_a_readable_record_and_keeps_the_exact_bytes() {
    let env = Env::new();
    let raw: Vec<u8> = [
        &b"From: J\xf6rg \xff\xfe <joerg@shop.example>\r\nTo: support@shop.example\r\n"[..],
        b"Subject: Bestellung \xfc\xe4 kaputt \xc3\x28\r\nMessage-ID: <\xff\xfe@shop.example>\r\n",
        b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
        b"Content-Type: multipart/mixed; boundary=\"U\"\r\n\r\n",
        b"--U\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMeine Bestellung NW-48213 ist \xe0\x80\x80 kaputt \xed\xa0\x80.\r\n",
        b"--U\r\nContent-Type: text/plain; charset=x-unknown-charset\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=FE=00 zweiter Teil\r\n",
        b"--U\r\nContent-Type: application/octet-stream; name=\"\xff\xfe.pdf\"\r\nContent-Disposition: attachment; filename=\"bad\xc0\xaf.pdf\"\r\n\r\nxx\r\n--U--\r\n",
    ]
    .concat();
    // The file name is not UTF-8 either.
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.eml");
    let file = env.path().join(name);
    std::fs::write(&file, &raw).unwrap();
    let mbox_name = env.path().join(std::ffi::OsStr::from_bytes(b"box-\xfe.mbox"));
    std::fs::write(&mbox_name, [&b"From x Mon Nov  2 10:00:00 2026\n"[..], &raw.replace_crlf()].concat()).unwrap();
    let mut cmd = env.cmd(&["fetch", "--eml"]);
    cmd.arg(&file);
    let out = run_within(cmd, b"", LIMIT);
    no_panic(&out, "fetch");
    assert!(out.status.success(), "{}", stderr(&out));
    let records = jsonl(&out.stdout);
    assert_eq!(records.len(), 1);
    let mut cmd = env.cmd(&["fetch", "--mbox"]);
    cmd.arg(&mbox_name);
    let again = run_within(cmd, b"", LIMIT);
    no_panic(&again, "fetch --mbox");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(jsonl(&again.stdout).is_empty(), "the mbox copy is the same message");
    let r = &records[0];
    assert!(r["subject"].as_str().unwrap().starts_with("Bestellung"), "{r}");
    assert!(r["text"].as_str().unwrap().contains("NW-48213"), "{r}");
    assert!(r["flags"].as_array().unwrap().iter().any(|f| f == "charset_lossy"), "{r}");
    assert_eq!(r["attachments"].as_array().unwrap().len(), 1, "{r}");
    let stored = Ledger::open(&env.ledger()).unwrap().raw(r["id"].as_str().unwrap()).unwrap().unwrap();
    assert!(stored == raw, "the exact bytes are kept");
    let draft = run_within(env.cmd(&["draft"]), &out.stdout, LIMIT);
    assert!(draft.status.success(), "{}", stderr(&draft));
    assert_sound(&env.ledger());
}

trait Lf {
    fn replace_crlf(&self) -> Vec<u8>;
}
impl Lf for Vec<u8> {
    fn replace_crlf(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for (i, &b) in self.iter().enumerate() {
            if !(b == b'\r' && self.get(i + 1) == Some(&b'\n')) {
                out.push(b);
            }
        }
        out
    }
}

#[test]
fn bad_jsonl_lines_are_reported_by_number_and_the_batch_goes_on() {
    let env = Env::new();
    let files: Vec<PathBuf> = (0..3)
        .map(|i| write_message(env.path(), &format!("{i}.eml"), &format!("From: c{i}@shop.example\r\nSubject: order {i}\r\n")))
        .collect();
    let mut cmd = env.cmd(&["fetch", "--eml"]);
    cmd.args(&files);
    let good: Vec<serde_json::Value> = jsonl(&cmd.output().unwrap().stdout);
    let mut one_mb = good[1].clone();
    one_mb["x_note"] = "n".repeat(1 << 20).into();
    let over_limit = format!("{{\"id\":\"{}\"}}", "y".repeat(65 << 20));
    let lines: Vec<Vec<u8>> = vec![
        good[0].to_string().into_bytes(),                // 1
        one_mb.to_string().into_bytes(),                // 2: a 1 MB line is fine
        b"{\"id\":\"a\x00b\"}".to_vec(),                 // 3: NUL
        b"{\"id\":\"\xff\xfe\"}".to_vec(),               // 4: not UTF-8
        vec![b'['; 100_000],                             // 5: nested past the recursion limit
        over_limit.into_bytes(),                         // 6: longer than the line limit
        b"\x00\x00\x00\x00".to_vec(),                    // 7: NULs only
        b"[1,2,3]".to_vec(),                             // 8: not an object
        good[2].to_string().into_bytes(),                // 9
    ];
    let input: Vec<u8> = lines.iter().flat_map(|l| [l.as_slice(), b"\n"].concat()).collect();
    for stage in [&["filter", "--all"][..], &["classify"], &["draft"]] {
        bad_lines_are_reported(&env, stage, &input, &good);
    }

    // --strict stops at the first bad line, after what came before it.
    let mut strict = env.cmd(&["draft"]);
    strict.arg("--strict");
    let out = run_within(strict, &input, LIMIT);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 2);
    assert!(stderr(&out).contains("stdin:3"), "{}", stderr(&out));
    assert_sound(&env.ledger());
}

/// `stage` reads `input` (the lines of `bad_jsonl_lines_are_reported_by_number_and_the_batch_goes_on`).
fn bad_lines_are_reported(env: &Env, args: &[&str], input: &[u8], good: &[serde_json::Value]) {
    let stage = args[0];
    let (out, mib) = run_measured(&env.cmd(args), input, env.path());
    no_panic(&out, stage);
    assert_eq!(out.status.code(), Some(1), "{stage}: bad lines make the run exit 1");
    assert!(mib < 300, "{stage}: peak memory {mib} MiB");
    let err = stderr(&out);
    for (line, what) in [
        (3, "NUL byte"),
        (4, "not valid UTF-8"),
        (5, "recursion limit"),
        (6, "longer than the limit"),
        (7, "NUL byte"),
        (8, "not a JSON object"),
    ] {
        assert!(err.lines().any(|l| l.contains(&format!("stdin:{line}:")) && l.contains(what)),
            "{stage}: line {line} ({what}) is reported:\n{}", err.chars().take(3000).collect::<String>());
    }
    assert!(err.lines().all(|l| l.len() < 500), "{stage}: no error line repeats the input");
    let passed = jsonl(&out.stdout);
    let ids: Vec<&str> = passed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [good[0]["id"].as_str().unwrap(), good[1]["id"].as_str().unwrap(), good[2]["id"].as_str().unwrap()], "{stage}");
    assert_eq!(passed[1]["x_note"].as_str().unwrap().len(), 1 << 20, "{stage}: unknown keys pass through whole");
}

#[test]
fn files_too_big_or_not_mail_at_all_are_reported_and_the_rest_is_imported() {
    let env = Env::new();
    let huge = env.path().join("huge.eml");
    std::fs::File::create(&huge).unwrap().set_len(600 << 20).unwrap();
    let empty = env.path().join("empty.eml");
    std::fs::write(&empty, b"").unwrap();
    let garbage = env.path().join("garbage.eml");
    let mut noise = vec![0u8; 2 << 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut noise);
    std::fs::write(&garbage, &noise).unwrap();
    let good = write_message(env.path(), "good.eml", "From: a@shop.example\r\nSubject: fine\r\n");
    let mut cmd = env.cmd(&["fetch", "--eml"]);
    cmd.args([&huge, &empty, &garbage, &good]);
    let (out, mib) = run_measured(&cmd, b"", env.path());
    no_panic(&out, "fetch");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(mib < 100, "a file over the limit is not read: {mib} MiB");
    let err = stderr(&out);
    assert!(err.contains("huge.eml: message larger than 512 MB, skipped"), "{err}");
    assert!(err.contains("empty.eml: empty file"), "{err}");
    let subjects: Vec<String> = jsonl(&out.stdout).iter().map(|r| r["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(subjects.len(), 2, "the garbage is kept as an unreadable message, the good one is imported");
    assert!(subjects.contains(&"fine".to_string()));

    // Random bytes as an mbox and a Maildir with a folder, a FIFO and a dangling link in it.
    let mbox = env.path().join("noise.mbox");
    std::fs::write(&mbox, &noise).unwrap();
    let maildir = env.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::create_dir(maildir.join("cur/a-folder")).unwrap();
    std::fs::write(maildir.join("new/1.host"), b"From: x@shop.example\r\nSubject: in the maildir\r\n\r\nhi\r\n").unwrap();
    let fifo = std::ffi::CString::new(maildir.join("new/2.fifo").as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("/nonexistent/target", maildir.join("new/3.link")).unwrap();
    let out = run_within(env.cmd(&["fetch", "--mbox", mbox.to_str().unwrap(), "--maildir", maildir.to_str().unwrap()]), b"", LIMIT);
    no_panic(&out, "fetch");
    let subjects: Vec<String> = jsonl(&out.stdout).iter().map(|r| r["subject"].as_str().unwrap().to_string()).collect();
    assert!(subjects.contains(&"in the maildir".to_string()), "{subjects:?} {}", stderr(&out));
    assert_sound(&env.ledger());
}
