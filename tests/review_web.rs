//! The review web page in a real browser: headless Chromium driven over chromedriver's W3C
//! WebDriver HTTP API. A notification posted by `mailroom notify` gives the link; the agent
//! opens it, edits the reply, approves; tampered and expired links, forms without their CSRF
//! token and `<script>` in a customer's mail are all checked the way a browser meets them.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/install-deps.sh installs them).

mod common;
mod reviewkit;
#[path = "common/servers.rs"]
mod servers;

use common::root;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Env, jsonl, stderr};
use reviewkit::{Receiver, Seed, draft_events, draft_state, free_port, seed, wait_for_port};
use serde_json::{Value, json};

/// Kills a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A form body as a browser encodes it.
fn encoded(fields: &[(&str, String)]) -> String {
    use mailroom::stages::review::links::encode;
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session on a chromedriver of our own.
struct Browser {
    http: reqwest::Client,
    base: String,
    _driver: Guard,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver)");
        let driver = Guard(driver);
        wait_for_port(port, "chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=400,860",
                         format!("--user-data-dir={}", profile.path().display())],
            },
        }}});
        let base = format!("http://127.0.0.1:{port}");
        let v: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {v}")).to_string();
        Browser { http, base: format!("{base}/session/{session}"), _driver: driver, _profile: profile }
    }

    /// One WebDriver command: its `value`, or the error object.
    async fn try_call(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, Value> {
        let req = self.http.request(method, format!("{}{path}", self.base));
        let req = if body.is_null() { req } else { req.json(&body) };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() { Err(v["value"].clone()) } else { Ok(v["value"].clone()) }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_call(method, path, body).await.unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    /// Clicks a submit button and waits until the next page has loaded.
    async fn submit(&self, css: &str) {
        self.script("window.__mailroom_old_page = true; return 1").await;
        self.click(css).await;
        let check = json!({"script": "return window.__mailroom_old_page === undefined && document.readyState === 'complete'", "args": []});
        for _ in 0..200 {
            if self.try_call(reqwest::Method::POST, "/execute/sync", check.clone()).await == Ok(Value::Bool(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} did not load a new page");
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({"url": url})).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self.call(reqwest::Method::POST, "/element", json!({"using": "css selector", "value": css})).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    async fn count(&self, css: &str) -> usize {
        let v = self.call(reqwest::Method::POST, "/elements", json!({"using": "css selector", "value": css})).await;
        v.as_array().unwrap().len()
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{e}/text"), Value::Null).await.as_str().unwrap().to_string()
    }

    async fn replace(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/clear"), json!({})).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/value"), json!({"text": text})).await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/click"), json!({})).await;
    }

    async fn script(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", json!({"script": js, "args": []})).await
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", Value::Null).await.as_str().unwrap().to_string()
    }

    /// Saves a PNG of the page into $MAILROOM_SCREENSHOTS, when set (to look at the page).
    async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let Some(dir) = std::env::var_os("MAILROOM_SCREENSHOTS") else { return };
        let path = std::path::Path::new(&dir).join(name);
        let v = self.call(reqwest::Method::GET, "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// `mailroom review serve` on a free port, with review_url pointing at it.
fn serve(env: &Env, port: u16) -> Guard {
    let child = env
        .cmd(&["review", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mailroom review serve");
    wait_for_port(port, "mailroom review serve");
    Guard(child)
}

fn config(port: u16, hook_port: u16) -> String {
    format!(
        "[team]\nname = \"Shop Support\"\nreview_url = \"http://127.0.0.1:{port}\"\n\
         [review]\nlisten = \"127.0.0.1:{port}\"\nlink_ttl_hours = 2\n\
         [[notify.webhooks]]\nname = \"team\"\nkind = \"json\"\nurl = \"http://127.0.0.1:{hook_port}/hook\"\n"
    )
}

/// The link the team chat got for `message`.
fn link_from_notification(env: &Env, hook: &Receiver, message: &str) -> String {
    let records = env.run(&["export", "--id", message], b"");
    let out = env.run(&["notify"], &records.stdout);
    assert!(out.status.success(), "notify failed: {}", stderr(&out));
    let posts = hook.requests();
    let post = posts.iter().rev().find(|r| r.json()["message"] == message).expect("a notification for the message");
    post.json()["review_url"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_edits_and_approves_from_a_chat_link() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let env = Env::new();
    let port = free_port();
    let hook = Receiver::start(vec![(200, "{}")]);
    // The shop's SMTP account: "Approve & send" hands the draft to the send stage at once.
    let srv = servers::servers();
    env.write_config(&format!(
        "{}[accounts.files]\nsmtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\", \
         from = \"Shop Support <support@shop.example>\" }}\n",
        config(port, hook.port),
        srv.port("SMTP_PORT")
    ));
    // The customer is a mailbox of the test mail server, so a sent reply can be seen arriving.
    let s = seed(&env.ledger(), &Seed { from: "Jane Doe <customer@example.test>", missing: &["order number"], ..Seed::default() });
    let evil = seed(
        &env.ledger(),
        &Seed {
            subject: "Refund <b>now</b>",
            body: "Hello <script>document.title='pwned';document.body.innerHTML='gone'</script> <img src=x onerror=alert(1)> bye",
            priority: "P1",
            category: "refund",
            risk: "high",
            ..Seed::default()
        },
    );
    let _server = serve(&env, port);
    let browser = Browser::start().await;

    // The listing (its own token) shows both, the P1 first, and links to their pages.
    let listing = String::from_utf8(env.run(&["review", "link", "--listing"], b"").stdout).unwrap();
    browser.goto(listing.trim()).await;
    assert_eq!(browser.count("ul.queue li").await, 2);
    assert!(browser.text("ul.queue li:first-child").await.contains("Refund <b>now</b>"));
    browser.screenshot("listing.png").await;
    browser.submit("ul.queue li:last-child a").await;
    assert_eq!(browser.text("h1.subject").await, "Where is my order?");
    assert_eq!(browser.text("a.back").await, "← All pending");

    // The link from the group chat opens the page with the message, checklist and draft.
    let link = link_from_notification(&env, &hook, &s.message);
    assert!(link.starts_with(&format!("http://127.0.0.1:{port}/m/{}?t=", s.message)), "{link}");
    browser.goto(&format!("{link}&as=alice")).await;
    assert_eq!(browser.text("h1.subject").await, "Where is my order?");
    assert!(browser.text(".checklist").await.contains("order number"));
    assert!(browser.text("pre.mail").await.contains("my order 12345 has not arrived"));
    browser.screenshot("message.png").await;

    // Edit, approve & send: the edited text is what arrives at the test SMTP server, and the
    // ledger records who approved it.
    browser.replace("textarea[name=body]", "Hello Jane,\nYour parcel left our warehouse today.\nBest, Alice").await;
    browser.submit("button[value=approve]").await;
    let flash = browser.text(".flash").await;
    browser.screenshot("approved.png").await;
    assert!(flash.starts_with("Approved"), "{flash}");
    let inbox = srv.maildir("customer").join("new");
    let arrived = (0..100).find_map(|_| {
        let found = std::fs::read_dir(&inbox)
            .ok()?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|m| m.contains("Your parcel left our warehouse today."));
        if found.is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
        found
    });
    let mail = arrived.expect("the edited reply never arrived at the test SMTP server");
    assert!(mail.contains("Subject: Re: Where is my order?"), "{mail}");
    let (state, by, _, body) = draft_state(&env.ledger(), &s.draft);
    assert_eq!(state, "sent");
    assert_eq!(by.as_deref(), Some("alice"));
    assert_eq!(body, "Hello Jane,\nYour parcel left our warehouse today.\nBest, Alice\n");
    let events = draft_events(&env.ledger(), &s.draft);
    assert!(events.contains(&("draft.edited".into(), Some("alice".into()))), "{events:?}");
    assert!(events.contains(&("draft.approved".into(), Some("alice".into()))), "{events:?}");
    assert_eq!(browser.count("button[value=approve]").await, 0, "an approved draft cannot be approved again");
    // Nothing is left for the send timer, and a second run sends nothing twice.
    let again = env.run(&["send"], b"");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(jsonl(&again.stdout).iter().all(|r| r["state"] != "sent"), "{}", String::from_utf8_lossy(&again.stdout));

    // A tampered token (one MAC digit changed) and a link to another message are refused.
    let mut tampered = link.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    browser.goto(&tampered).await;
    assert_eq!(browser.text("h1").await, "Link refused");
    let token = link.split("?t=").nth(1).unwrap();
    browser.goto(&format!("http://127.0.0.1:{port}/m/{}?t={token}", evil.message)).await;
    assert_eq!(browser.text("h1").await, "Link refused");
    let status = reqwest::get(&tampered).await.unwrap().status();
    assert_eq!(status, 403);

    // An expired token, correctly signed, is refused too.
    let expired = {
        let ledger = mailroom::ledger::Ledger::open(&env.ledger()).unwrap();
        let signer = mailroom::stages::review::links::LinkSigner::from_ledger(&ledger).unwrap();
        let past = chrono::Utc::now().timestamp() - 60;
        signer.token(mailroom::stages::review::links::Scope::Message(&evil.message), past)
    };
    browser.goto(&format!("http://127.0.0.1:{port}/m/{}?t={expired}", evil.message)).await;
    assert_eq!(browser.text("h1").await, "Link refused");
    assert!(browser.text(".error p").await.contains("expired"));

    // A customer's <script> is shown as text and never runs.
    let evil_link = link_from_notification(&env, &hook, &evil.message);
    browser.goto(&evil_link).await;
    let shown = browser.text("pre.mail").await;
    assert!(shown.contains("<script>document.title='pwned'"), "{shown}");
    assert!(shown.contains("<img src=x onerror=alert(1)>"), "{shown}");
    assert_eq!(browser.count("script").await, 0);
    assert_eq!(browser.count("main img").await, 0);
    assert_eq!(browser.text("h1.subject").await, "Refund <b>now</b>");
    let title = browser.script("return document.title").await;
    assert!(!title.as_str().unwrap().contains("pwned"), "{title}");
    assert!(browser.source().await.contains("&lt;script&gt;"));
    browser.screenshot("script-as-text.png").await;

    // A form posted without its CSRF token changes nothing.
    browser.replace("input[name=as]", "mallory").await;
    browser.script("document.querySelector('input[name=csrf]').remove(); return 1").await;
    browser.submit("button[value=approve]").await;
    assert_eq!(browser.text("h1").await, "Form refused");
    assert_eq!(draft_state(&env.ledger(), &evil.draft).0, "pending");

    // With the page reloaded, the same agent can reject with a reason.
    browser.goto(&evil_link).await;
    browser.replace("input[name=as]", "bob").await;
    browser.script("document.querySelector('details.reject').open = true; return 1").await;
    browser.replace("input[name=reason]", "asks for a chargeback: manager answers").await;
    browser.submit("button[value=reject]").await;
    assert!(browser.text(".flash").await.starts_with("Rejected"));
    let (state, by, reason, _) = draft_state(&env.ledger(), &evil.draft);
    assert_eq!((state.as_str(), by.as_deref()), ("rejected", Some("bob")));
    assert_eq!(reason.as_deref(), Some("asks for a chargeback: manager answers"));
    assert_eq!(browser.count("textarea").await, 0, "a rejected draft is read-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_csrf_or_from_elsewhere_are_refused() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let env = Env::new();
    let port = free_port();
    env.write_config(&config(port, 9));
    let s = seed(&env.ledger(), &Seed::default());
    let _server = serve(&env, port);
    let link = String::from_utf8(env.run(&["review", "link", &s.message], b"").stdout).unwrap().trim().to_string();
    let token = link.split("?t=").nth(1).unwrap().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post_url = format!("http://127.0.0.1:{port}/m/{}", s.message);

    // The page sets a session cookie and embeds a CSRF token for it.
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    let form = |csrf: Option<&str>| {
        let mut f = vec![("t", token.clone()), ("action", "approve".to_string()), ("as", "mallory".to_string()), ("body", "pwned".to_string())];
        if let Some(c) = csrf {
            f.push(("csrf", c.to_string()));
        }
        f
    };
    // No token, a token without the cookie, a token for another session: all refused.
    let r = http.post(&post_url).header("cookie", &cookie).header("content-type", FORM).body(encoded(&form(None))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = http.post(&post_url).header("content-type", FORM).body(encoded(&form(Some(&csrf)))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(&post_url)
        .header("cookie", "mr_session=0123456789abcdef0123456789abcdef")
        .header("content-type", FORM).body(encoded(&form(Some(&csrf))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (state, _, _, body) = draft_state(&env.ledger(), &s.draft);
    assert_eq!(state, "pending");
    assert!(!body.contains("pwned"));

    // The real form goes through, and redirects back to the page.
    let r = http.post(&post_url).header("cookie", &cookie).header("content-type", FORM).body(encoded(&form(Some(&csrf)))).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().contains("done=queued"));
    let (state, by, _, body) = draft_state(&env.ledger(), &s.draft);
    assert_eq!((state.as_str(), by.as_deref(), body.as_str()), ("approved", Some("mallory"), "pwned\n"));

    // A second approval from a stale page is refused and does not overwrite the approved text.
    let mut stale = form(Some(&csrf));
    stale[3].1 = "other text".into();
    let r = http.post(&post_url).header("cookie", &cookie).header("content-type", FORM).body(encoded(&stale)).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("mallory already approved this draft"));
    assert_eq!(draft_state(&env.ledger(), &s.draft).3, "pwned\n");

    // The listing needs its own token; a message token does not open it.
    assert_eq!(http.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap().status(), 403);
    assert_eq!(http.get(format!("http://127.0.0.1:{port}/?t={token}")).send().await.unwrap().status(), 403);
    let listing = String::from_utf8(env.run(&["review", "link", "--listing"], b"").stdout).unwrap();
    assert_eq!(http.get(listing.trim()).send().await.unwrap().status(), 200);
}
