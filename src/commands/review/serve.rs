//! `mailroom review serve`: the review web page.
//!
//! No JavaScript: plain forms, server-rendered with minijinja (autoescaped, so a message's
//! text is shown as text, never run). Access:
//! - `/m/{message}?t=TOKEN`: one message, with a signed, expiring token from a notification
//!   or `mailroom review link`;
//! - `/?t=TOKEN`: the listing, with a listing token (printed at start-up and by
//!   `mailroom review link --listing`).
//!
//! Every POST carries the link token and a CSRF token bound to a random session cookie
//! (HttpOnly, SameSite=Strict) and to the page; both are checked before anything changes.
//! The person acting names themselves in the form (remembered in a cookie) and that name is
//! recorded as the actor. Pages are sent with a strict Content-Security-Policy, no caching
//! and no Referer, so a token in the URL does not leak to other sites.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use clap::Args;
use minijinja::{Environment, context};
use serde::Serialize;

use super::Ctx;
use crate::config::Config;
use crate::error::{Outcome, UsageError};
use crate::ledger::{DraftState, Ledger};
use crate::stages::review::actions::{self, clean_actor};
use crate::stages::review::links::{LinkSigner, Scope, TokenError, encode, message_path, random_hex, unix_now};
use crate::stages::review::queue::{self, age_label};
use crate::stages::review::{self as stage, ApproveSends, Delivery, SendJob, SendNow};

/// Serve the review web page.
///
/// A listing and one page per message, where an agent opens a link from the group chat,
/// edits the reply, and approves & sends, saves, rejects or marks it handled. Binds to
/// 127.0.0.1 by default; put it behind an HTTPS reverse proxy to reach it from phones, and
/// set team.review_url to the address agents use. The listing's link (with its token) is
/// printed at start-up; `mailroom review link --listing` prints a fresh one.
///
/// Examples:
///   mailroom review serve
///   mailroom review serve --listen 127.0.0.1:9000
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Address to listen on [default: review.listen, 127.0.0.1:8025]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

const SESSION_COOKIE: &str = "mr_session";
const NAME_COOKIE: &str = "mr_as";
const STYLE: &str = include_str!("web/style.css");

struct App {
    ledger: Mutex<Ledger>,
    config: Arc<Config>,
    ledger_path: PathBuf,
    signer: LinkSigner,
    policy: ApproveSends,
    send_now: Option<SendNow>,
    templates: Environment<'static>,
    run_id: Option<i64>,
}

type Shared = Arc<App>;

pub async fn run(args: ServeArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let config = Arc::new(ctx.config()?.clone());
    let policy = ApproveSends::from_config(&config.policy)?;
    let listen = args.listen.clone().unwrap_or_else(|| config.review.listen.clone());
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| UsageError(format!("--listen {listen}: expected IP:PORT, e.g. 127.0.0.1:8025")))?;
    let run_id = {
        ctx.ledger()?;
        ctx.run_id()
    };
    // The server's own connection: the run's connection stays with ctx for the run row.
    let ledger_path = ctx.ledger_path();
    let ledger = Ledger::open(&ledger_path)?;
    let signer = LinkSigner::from_ledger(&ledger)?;
    let app = Arc::new(App {
        ledger: Mutex::new(ledger),
        config: config.clone(),
        ledger_path,
        signer,
        policy,
        send_now: stage::send_now_hook(),
        templates: templates()?,
        run_id,
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        ctx.warn(format!(
            "listening on {bound}, reachable from other machines: serve it through HTTPS (a reverse proxy)"
        ));
    }
    ctx.info(format!("listening on http://{bound}"));
    let listing = app.signer.listing_url(&config.team.review_url, config.review.link_ttl_hours, unix_now());
    ctx.info(format!("the listing (keep this link to the team): {listing}"));
    let router = Router::new()
        .route("/", get(listing_page))
        .route("/m/{id}", get(message_page).post(message_action))
        .route("/style.css", get(style))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { page_error(StatusCode::NOT_FOUND, "Not found", "There is no such page.") })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the review server stopped")?;
    Ok(Outcome::Success)
}

/// Ctrl-C, or SIGTERM from systemd.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn templates() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.add_template("layout.html", include_str!("web/layout.html"))?;
    env.add_template("message.html", include_str!("web/message.html"))?;
    env.add_template("listing.html", include_str!("web/listing.html"))?;
    env.add_template("error.html", include_str!("web/error.html"))?;
    Ok(env)
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLE).into_response()
}

/// A whole page from a body template.
fn render(app: &App, name: &str, title: &str, actor: &str, back: Option<String>, ctx: minijinja::Value) -> Result<String> {
    let body = app.templates.get_template(name)?.render(ctx)?;
    let page = app.templates.get_template("layout.html")?.render(context! {
        title, team => app.config.team.name, actor, back, body,
    })?;
    Ok(page)
}

fn html(status: StatusCode, page: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// An error page (rendered without the app, so it works for every failure).
fn page_error(status: StatusCode, heading: &str, detail: &str) -> Response {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width, initial-scale=1\"><title>{h}</title><link rel=\"stylesheet\" \
             href=\"/style.css\"></head><body><main><section class=\"card error\"><h1>{h}</h1><p>{d}</p>\
             </section></main></body></html>",
            h = esc(heading),
            d = esc(detail)
        ),
    )
}

fn internal(e: anyhow::Error) -> Response {
    tracing::error!("review page: {e:#}");
    page_error(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &format!("{e:#}"))
}

fn token_refused(e: TokenError) -> Response {
    let detail = match e {
        TokenError::Expired => "This link has expired. Ask for a fresh one: mailroom review link MESSAGE-ID",
        TokenError::Missing => "This page needs the link from the group chat (or from mailroom review link).",
        _ => "This link is not valid. Open the link exactly as it was posted in the group chat.",
    };
    page_error(StatusCode::FORBIDDEN, "Link refused", detail)
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    cookies(headers)
        .remove(SESSION_COOKIE)
        .filter(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `; Secure` when agents reach the page over HTTPS (team.review_url), so cookies never
/// travel in clear text there.
fn secure(app: &App) -> &'static str {
    if app.config.team.review_url.starts_with("https://") { "; Secure" } else { "" }
}

fn name_cookie(app: &App, name: &str) -> String {
    format!("{NAME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{}", encode(name), secure(app))
}

fn name_from_cookie(headers: &HeaderMap) -> Option<String> {
    let raw = cookies(headers).remove(NAME_COOKIE)?;
    let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8().ok()?;
    clean_actor(&decoded)
}

/// Runs ledger work off the async threads.
async fn with_ledger<T: Send + 'static>(app: &Shared, f: impl FnOnce(&mut Ledger) -> Result<T> + Send + 'static) -> Result<T> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let mut ledger = app.ledger.lock().map_err(|_| anyhow::anyhow!("the ledger lock is poisoned"))?;
        f(&mut ledger)
    })
    .await
    .context("ledger task")?
}

#[derive(Serialize)]
struct ListItem {
    href: String,
    priority: Option<String>,
    prio_class: String,
    category: Option<String>,
    risk: String,
    age: String,
    subject: String,
    from: String,
    missing: Vec<String>,
}

/// An RFC 3339 time in the team's time zone, for people: "Mon 16 Nov 2026, 10:00 CET".
fn local_time(rfc3339: &str, tz: &str, format: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else { return rfc3339.to_string() };
    match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) => t.with_timezone(&zone).format(format).to_string(),
        Err(_) => t.with_timezone(&chrono_tz::UTC).format(format).to_string(),
    }
}

fn prio_class(p: Option<&str>) -> String {
    p.unwrap_or("p0").to_ascii_lowercase()
}

async fn listing_page(State(app): State<Shared>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let now = unix_now();
    if let Err(e) = app.signer.verify(Scope::Listing, q.get("t").map(String::as_str), now) {
        return token_refused(e);
    }
    let list_token = q.get("t").cloned().unwrap_or_default();
    let items = match with_ledger(&app, |l| queue::list(l, &[])).await {
        Ok(items) => items,
        Err(e) => return internal(e),
    };
    let ttl = app.config.review.link_ttl_hours;
    let items: Vec<ListItem> = items
        .into_iter()
        .map(|i| {
            let token = app.signer.token(Scope::Message(&i.message), now + (ttl as i64) * 3600);
            ListItem {
                href: format!("{}&l={}", message_path(&i.message, &token), encode(&list_token)),
                prio_class: prio_class(i.priority.as_deref()),
                priority: i.priority,
                category: i.category,
                risk: i.risk,
                age: age_label(&i.received),
                subject: i.subject,
                from: i.from,
                missing: i.missing_info,
            }
        })
        .collect();
    let actor = name_from_cookie(&headers).unwrap_or_default();
    match render(&app, "listing.html", "Waiting for review", &actor, None, context! { items }) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => internal(e),
    }
}

/// A history line for the page.
#[derive(Serialize)]
struct HistoryLine {
    at: String,
    kind: String,
    actor: Option<String>,
    status: String,
    note: Option<String>,
}

/// What the message page shows besides the stored detail.
struct PageState {
    flash: Option<(String, &'static str)>,
    /// The reviewer's unsaved text, kept when an action failed.
    subject: Option<String>,
    body: Option<String>,
}

fn flash_for(done: &str) -> Option<(String, &'static str)> {
    let text = match done {
        "sent" => "Approved and sent.",
        "queued" => "Approved. It is queued and the send timer will send it.",
        "send_failed" => "Approved, but sending failed; it will be retried. See the history below.",
        "saved" => "Saved.",
        "unchanged" => "Nothing changed.",
        "rejected" => "Rejected.",
        "handled" => "Marked handled.",
        _ => return None,
    };
    Some((text.to_string(), if done == "send_failed" { "error" } else { "ok" }))
}

async fn message_page(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = app.signer.verify(Scope::Message(&id), q.get("t").map(String::as_str), unix_now()) {
        return token_refused(e);
    }
    let from_link = q.get("as").and_then(|a| clean_actor(a));
    let actor = from_link.clone().or_else(|| name_from_cookie(&headers)).unwrap_or_default();
    let state = PageState { flash: q.get("done").and_then(|d| flash_for(d)), subject: None, body: None };
    let mut res = render_message(&app, &id, &q, &headers, &actor, state, StatusCode::OK).await;
    if let Some(Ok(v)) = from_link.map(|name| HeaderValue::from_str(&name_cookie(&app, &name))) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Renders the message page, issuing a session cookie when the browser has none.
async fn render_message(
    app: &Shared,
    id: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    actor: &str,
    state: PageState,
    status: StatusCode,
) -> Response {
    let lookup = id.to_string();
    let detail = match with_ledger(app, move |l| queue::detail(l, &lookup)).await {
        Ok(d) => d,
        Err(e) => {
            return page_error(StatusCode::NOT_FOUND, "Nothing to review", &format!("{e:#}"));
        }
    };
    let (session, new_session) = match session_of(headers) {
        Some(s) => (s, false),
        None => (random_hex(16), true),
    };
    let token = q.get("t").cloned().unwrap_or_default();
    let listing_token = q
        .get("l")
        .filter(|l| app.signer.verify(Scope::Listing, Some(l.as_str()), unix_now()).is_ok())
        .cloned();
    let back = listing_token.as_ref().map(|l| format!("/?t={}", encode(l)));
    let d = &detail.draft;
    let editable = matches!(d.state, DraftState::Pending | DraftState::Approved | DraftState::Failed);
    let can_approve = matches!(d.state, DraftState::Pending | DraftState::Failed);
    let (approve_label, approve_hint) = match (app.policy, app.send_now.is_some()) {
        (ApproveSends::Now, true) => ("Approve & send", "Approve & send sends the reply at once."),
        (ApproveSends::Now, false) => (
            "Approve & send",
            "Approve & send saves your text and queues the reply for the send timer.",
        ),
        (ApproveSends::Queue, _) => ("Approve & send", "Approve & send queues the reply; the send timer sends it."),
    };
    let mut draft = serde_json::to_value(d).unwrap_or_default();
    if let (Some(subject), Some(obj)) = (&state.subject, draft.as_object_mut()) {
        obj.insert("subject".into(), subject.clone().into());
    }
    if let (Some(body), Some(obj)) = (&state.body, draft.as_object_mut()) {
        obj.insert("body".into(), body.clone().into());
    }
    let record = detail.record.as_ref();
    let text_new = record.map(|r| r.best_text().to_string()).unwrap_or_default();
    let full_text = record.map(|r| r.text.clone()).filter(|t| t.trim() != text_new.trim() && !t.trim().is_empty());
    let tz = &app.config.team.timezone;
    let history: Vec<HistoryLine> = detail
        .history
        .iter()
        .map(|e| HistoryLine {
            at: local_time(&e.at, tz, "%d %b %H:%M"),
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            status: e.status.clone(),
            note: e
                .detail
                .as_ref()
                .and_then(|v| v.get("reason").or_else(|| v.get("error")))
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
        .collect();
    let subject = record.map(|r| r.subject.clone()).unwrap_or_else(|| d.subject.clone());
    let (flash, flash_kind) = match state.flash {
        Some((text, kind)) => (Some(text), kind),
        None => (None, "ok"),
    };
    let ctx = context! {
        draft,
        subject,
        from => detail.from,
        received => local_time(&detail.received, tz, "%a %d %b %Y, %H:%M %Z"),
        age => age_label(&detail.received),
        decided_at => d.decided_at.as_deref().map(|t| local_time(t, tz, "%a %d %b, %H:%M %Z")),
        checklist => detail.checklist,
        reasons => detail.reasons,
        sources => detail.sources,
        history,
        text_new,
        full_text,
        attachments => record.map(|r| r.attachments.clone()).unwrap_or_default(),
        prio_class => prio_class(d.priority.as_deref()),
        editable,
        can_approve,
        approve_label,
        approve_hint,
        action => format!("/m/{}", encode(id)),
        token,
        listing_token => listing_token.clone().unwrap_or_default(),
        csrf => app.signer.csrf(&session, id),
        actor,
        flash,
        flash_kind,
    };
    let page = match render(app, "message.html", &subject, actor, back, ctx) {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let mut res = html(status, page);
    if new_session {
        let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict{}", secure(app));
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

async fn message_action(
    State(app): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str);
    if let Err(e) = app.signer.verify(Scope::Message(&id), field("t"), unix_now()) {
        return token_refused(e);
    }
    let Some(session) = session_of(&headers) else {
        return page_error(
            StatusCode::FORBIDDEN,
            "Form refused",
            "Your browser did not send this page's session cookie. Open the link again and retry.",
        );
    };
    if !app.signer.check_csrf(&session, &id, field("csrf").unwrap_or("")) {
        return page_error(
            StatusCode::FORBIDDEN,
            "Form refused",
            "This form is out of date or did not come from this page. Open the link again and retry.",
        );
    }
    // Keep the link tokens for the page we show or redirect to next.
    let mut q = HashMap::new();
    q.insert("t".to_string(), field("t").unwrap_or("").to_string());
    if let Some(l) = field("l").filter(|l| !l.is_empty()) {
        q.insert("l".to_string(), l.to_string());
    }
    let action = field("action").unwrap_or("").to_string();
    let subject = field("subject").map(str::to_string);
    let body = field("body").map(str::to_string);
    let keep = |flash: String| PageState { flash: Some((flash, "error")), subject: subject.clone(), body: body.clone() };
    let Some(actor) = field("as").and_then(clean_actor) else {
        let flash = "Please fill in your name: it is recorded with your decision.".to_string();
        return render_message(&app, &id, &q, &headers, "", keep(flash), StatusCode::BAD_REQUEST).await;
    };
    let result = perform(&app, &id, &action, &actor, subject.clone(), body.clone(), field("reason").map(str::to_string)).await;
    let mut res = match result {
        Ok(done) => {
            let mut target = format!("/m/{}?t={}&done={done}", encode(&id), encode(&q["t"]));
            if let Some(l) = q.get("l") {
                target.push_str(&format!("&l={}", encode(l)));
            }
            Redirect::to(&target).into_response()
        }
        Err(e) => {
            let status = if e.downcast_ref::<UsageError>().is_some() { StatusCode::BAD_REQUEST } else { StatusCode::CONFLICT };
            render_message(&app, &id, &q, &headers, &actor, keep(format!("{e:#}")), status).await
        }
    };
    if let Ok(v) = HeaderValue::from_str(&name_cookie(&app, &actor)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Does what a button asks; returns the `done` code for the page shown next.
async fn perform(
    app: &Shared,
    message: &str,
    action: &str,
    actor: &str,
    subject: Option<String>,
    body: Option<String>,
    reason: Option<String>,
) -> Result<&'static str> {
    let run_id = app.run_id;
    let (m, who) = (message.to_string(), actor.to_string());
    match action {
        "save" | "approve" => {
            let approving = action == "approve";
            let (draft_id, done) = with_ledger(app, move |l| {
                let draft = queue::resolve(l, &m)?;
                // A stale page must not save its text over a draft someone already approved.
                if approving && !matches!(draft.state, DraftState::Pending | DraftState::Failed) {
                    anyhow::bail!(
                        "{} already {} this draft; nothing was changed",
                        draft.decided_by.as_deref().unwrap_or("someone"),
                        draft.state.as_str()
                    );
                }
                let changed = match &body {
                    Some(b) => actions::edit(l, &draft.id, subject.as_deref(), b, &who)?.is_some(),
                    None => false,
                };
                if approving {
                    actions::approve(l, &draft.id, &who, run_id)?;
                    return Ok((draft.id, "approved"));
                }
                Ok((draft.id, if changed { "saved" } else { "unchanged" }))
            })
            .await?;
            if !approving {
                return Ok(done);
            }
            let job = SendJob {
                config: app.config.clone(),
                ledger_path: app.ledger_path.clone(),
                draft_id,
                actor: actor.to_string(),
            };
            Ok(match stage::deliver(app.policy, app.send_now.as_ref(), job).await {
                Delivery::Sent(_) => "sent",
                Delivery::Queued(_) => "queued",
                Delivery::Failed(e) => {
                    tracing::warn!("send after approval failed: {e}");
                    "send_failed"
                }
            })
        }
        "reject" => {
            let reason = reason.unwrap_or_default();
            if reason.trim().is_empty() {
                return Err(UsageError("Please give a reason for rejecting (open \"Reject this draft…\").".into()).into());
            }
            with_ledger(app, move |l| actions::reject(l, &m, &who, &reason, run_id)).await?;
            Ok("rejected")
        }
        "handle" => {
            with_ledger(app, move |l| actions::handle(l, &m, &who, reason.as_deref(), run_id)).await?;
            Ok("handled")
        }
        other => Err(UsageError(format!("unknown action \"{other}\"")).into()),
    }
}
