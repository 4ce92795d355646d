//! A mock OpenAI-compatible chat-completions server for tests.
//!
//! It speaks the real wire format (POST /v1/chat/completions, Bearer auth, `chat.completion`
//! JSON with `usage`, 429 with `Retry-After`, 5xx, error bodies) and counts every call and
//! every distinct message it was asked about. Its answer is derived from the message text:
//! `cat=NAME` / `conf=0.NN` markers set the category and confidence, `[junk]` always gets a
//! non-JSON answer; otherwise a few keywords decide. Scripted failures (429, 500, junk) are
//! served first, in order, to whatever requests come in.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub enum Scripted {
    /// 429 with this `Retry-After` header value.
    RateLimit(String),
    /// 429 with `retry-after-ms`.
    RateLimitMs(u64),
    ServerError(u16),
    /// A 200 whose content is this text.
    Junk(String),
}

#[derive(Default)]
pub struct MockState {
    pub calls: AtomicUsize,
    pub per_message: Mutex<HashMap<String, usize>>,
    pub script: Mutex<VecDeque<Scripted>>,
    pub latency: Duration,
    pub key: String,
    pub bad_requests: Mutex<Vec<String>>,
}

pub struct Mock {
    pub addr: SocketAddr,
    pub state: Arc<MockState>,
}

impl Mock {
    /// Starts a server on 127.0.0.1 (random port) in a background thread.
    pub fn start(key: &str, latency: Duration, script: Vec<Scripted>) -> Mock {
        let state = Arc::new(MockState {
            latency,
            key: key.to_string(),
            script: Mutex::new(script.into()),
            ..Default::default()
        });
        let app = Router::new().route("/v1/chat/completions", post(chat)).with_state(state.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("addr")).expect("send addr");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        let addr = rx.recv().expect("mock address");
        Mock { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// How many times each distinct user message was asked about.
    pub fn per_message(&self) -> HashMap<String, usize> {
        self.state.per_message.lock().unwrap().clone()
    }

    pub fn bad_requests(&self) -> Vec<String> {
        self.state.bad_requests.lock().unwrap().clone()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn chat(State(s): State<Arc<MockState>>, headers: HeaderMap, body: String) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    if !s.latency.is_zero() {
        tokio::time::sleep(s.latency).await;
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", s.key) {
        // Like OpenAI: the error quotes (part of) the key that was sent.
        let sent = auth.trim_start_matches("Bearer ");
        return error(StatusCode::UNAUTHORIZED, &format!("Incorrect API key provided: {sent}."));
    }
    let req: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            s.bad_requests.lock().unwrap().push(format!("not JSON: {e}"));
            return error(StatusCode::BAD_REQUEST, "We could not parse the JSON body of your request.");
        }
    };
    let problems = check_request(&req);
    if !problems.is_empty() {
        s.bad_requests.lock().unwrap().push(problems.clone());
        return error(StatusCode::BAD_REQUEST, &problems);
    }
    let user = req["messages"][1]["content"].as_str().unwrap_or("").to_string();
    *s.per_message.lock().unwrap().entry(user.clone()).or_default() += 1;
    let scripted = s.script.lock().unwrap().pop_front();
    match scripted {
        Some(Scripted::RateLimit(v)) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", v)], json!({"error": {"message": "Rate limit reached", "type": "requests"}}).to_string())
                .into_response();
        }
        Some(Scripted::RateLimitMs(ms)) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after-ms", ms.to_string())], json!({"error": {"message": "Rate limit reached", "type": "requests"}}).to_string())
                .into_response();
        }
        Some(Scripted::ServerError(code)) => {
            return error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "The server had an error while processing your request.");
        }
        Some(Scripted::Junk(text)) => return completion(&req, &text),
        None => {}
    }
    if user.contains("[junk]") {
        return completion(&req, "I think this is probably about a refund, but I'm not sure!");
    }
    let answer = answer_for(&user);
    completion(&req, &answer.to_string())
}

/// The request must look like what OpenAI accepts for structured output.
fn check_request(req: &Value) -> String {
    let mut p = Vec::new();
    if !req["model"].is_string() {
        p.push("model missing");
    }
    if req["messages"][0]["role"] != "system" || req["messages"][1]["role"] != "user" {
        p.push("messages must be [system, user]");
    }
    if req["response_format"]["type"] != "json_schema" || !req["response_format"]["json_schema"]["schema"].is_object() {
        p.push("response_format json_schema missing");
    }
    p.join("; ")
}

fn answer_for(user: &str) -> Value {
    let lower = user.to_lowercase();
    let marker = |k: &str| {
        lower.find(k).map(|i| lower[i + k.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect::<String>())
    };
    let category = marker("cat=").unwrap_or_else(|| {
        if lower.contains("refund") {
            "refund".into()
        } else if lower.contains("where is") || lower.contains("parcel") {
            "shipping".into()
        } else {
            "other".into()
        }
    });
    let confidence: f64 = marker("conf=").and_then(|c| c.parse().ok()).unwrap_or(0.92);
    json!({"category": category, "confidence": confidence, "sentiment": "neutral", "reasons": ["mock decided"]})
}

fn completion(req: &Value, content: &str) -> Response {
    let body = json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 1_763_700_000,
        "model": req["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 312, "completion_tokens": 28, "total_tokens": 340},
        "system_fingerprint": "fp_mock"
    });
    (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
}
