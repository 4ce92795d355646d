//! A webhook receiver for tests: a tiny HTTP/1.1 server on loopback that records each POST
//! body and answers with a chosen status.
#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

pub struct Sink {
    pub url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    status: Arc<AtomicU16>,
}

impl Sink {
    pub fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind webhook sink");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (b, s) = (bodies.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let Some(body) = super::common::read_request_body(&mut reader) else { continue };
                let code = s.load(Ordering::SeqCst);
                if code == 200 {
                    b.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                }
                let reply = format!("HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Sink { url, bodies, status }
    }

    /// Bodies of the POSTs answered with 200, as JSON.
    pub fn posts(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().iter().map(|b| serde_json::from_str(b).expect("webhook body is JSON")).collect()
    }

    /// The status the next requests get (200 records them; anything else refuses them).
    pub fn answer(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    /// A `[[notify.webhooks]]` table posting generic JSON here.
    pub fn config(&self) -> String {
        format!("[[notify.webhooks]]\nname = \"team\"\nkind = \"json\"\nurl = \"{}\"\n", self.url)
    }
}
