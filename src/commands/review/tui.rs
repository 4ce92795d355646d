//! The interactive review: one draft at a time, single keys, most urgent first.
//!
//! The terminal is put into non-canonical, no-echo mode (termios) for single keys, and back
//! into normal mode for typed answers (a reason, a category) and for `$EDITOR`. A guard
//! restores the terminal however the loop ends. The queue is re-read after every decision,
//! so drafts decided meanwhile by someone else (on the web page, say) drop out.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Result;

use super::{Ctx, approve_and_deliver, card, editor};
use crate::error::Outcome;
use crate::stages::review::actions;
use crate::stages::review::queue::{self, QueueItem};

const KEYS: &str = "[a]pprove  [e]dit  [r]eject  [h]andled  [c]ategory  [s]kip  [p]rev  [v]iew  [q]uit";

/// Terminal width in columns (80 when unknown).
pub fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct we own; on failure we fall back.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
            return (ws.ws_col as usize).min(120);
        }
    }
    80
}

fn terminal_height() -> usize {
    // SAFETY: as above.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_row > 0 {
            return ws.ws_row as usize;
        }
    }
    24
}

/// Holds the terminal in single-key mode; restores the saved mode when dropped.
struct KeyMode {
    saved: libc::termios,
}

impl KeyMode {
    fn enter() -> Result<KeyMode> {
        // SAFETY: tcgetattr/tcsetattr on stdin with a termios struct we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                anyhow::bail!("cannot read the terminal mode: {}", std::io::Error::last_os_error());
            }
            let mut raw = saved;
            // No line editing, no echo, and Ctrl-C arrives as a key so the terminal is
            // always restored on the way out.
            raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &raw) != 0 {
                anyhow::bail!("cannot set the terminal mode: {}", std::io::Error::last_os_error());
            }
            Ok(KeyMode { saved })
        }
    }

    /// Runs `f` with the terminal in its normal mode (typed answers, the editor).
    fn cooked<T>(&self, f: impl FnOnce() -> T) -> T {
        // SAFETY: restoring and re-applying termios structs we own.
        unsafe {
            let mut current: libc::termios = std::mem::zeroed();
            libc::tcgetattr(libc::STDIN_FILENO, &mut current);
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &self.saved);
            let value = f();
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &current);
            value
        }
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        // SAFETY: restoring the saved termios.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &self.saved);
        }
    }
}

#[derive(Debug, PartialEq)]
enum Key {
    Char(char),
    Left,
    Right,
    Quit,
    Other,
}

fn read_byte(timeout_ms: i32) -> Option<u8> {
    // SAFETY: poll and read on stdin with buffers we own.
    unsafe {
        let mut fds = libc::pollfd { fd: libc::STDIN_FILENO, events: libc::POLLIN, revents: 0 };
        if libc::poll(&mut fds, 1, timeout_ms) <= 0 {
            return None;
        }
        let mut b = 0u8;
        (libc::read(libc::STDIN_FILENO, (&mut b as *mut u8).cast(), 1) == 1).then_some(b)
    }
}

fn read_key() -> Key {
    match read_byte(-1) {
        None | Some(3) | Some(4) => Key::Quit, // EOF, Ctrl-C, Ctrl-D
        Some(0x1b) => match (read_byte(30), read_byte(30)) {
            (Some(b'['), Some(b'C')) => Key::Right,
            (Some(b'['), Some(b'D')) => Key::Left,
            (None, _) => Key::Quit, // a lone Escape
            _ => Key::Other,
        },
        Some(b) if b.is_ascii() => Key::Char((b as char).to_ascii_lowercase()),
        Some(_) => Key::Other,
    }
}

/// Reads one typed line in normal mode.
fn prompt(mode: &KeyMode, question: &str) -> Option<String> {
    mode.cooked(|| {
        print!("\n{question}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_string()),
        }
    })
}

/// Shows `text` in `$PAGER` (default `less -R`), or prints it when no pager starts.
fn page(mode: &KeyMode, text: &str) {
    mode.cooked(|| {
        let pager = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "less -R".into());
        let child = std::process::Command::new("sh").arg("-c").arg(&pager).stdin(std::process::Stdio::piped()).spawn();
        match child {
            Ok(mut c) => {
                if let Some(mut stdin) = c.stdin.take() {
                    let _ = stdin.write_all(text.as_bytes());
                }
                let _ = c.wait();
            }
            Err(_) => print!("{text}"),
        }
    });
}

/// The queue around the current draft, one line each, most urgent first.
fn queue_lines(all: &[QueueItem], current: &str, skipped: &HashSet<String>, style: card::Style, width: usize) -> String {
    const SHOWN: usize = 5;
    let at = all.iter().position(|i| i.draft == current).unwrap_or(0);
    let start = at.saturating_sub(1).min(all.len().saturating_sub(SHOWN));
    let mut out = String::new();
    for item in all.iter().skip(start).take(SHOWN) {
        let mark = if item.draft == current { "▶" } else if skipped.contains(&item.draft) { "·" } else { " " };
        let line = format!(
            "{mark} {:<3} {:<14} {:>7}  {} — {}",
            item.priority.as_deref().unwrap_or("P?"),
            item.category.as_deref().unwrap_or("untriaged"),
            queue::age_label(&item.received),
            card::clean(&item.subject),
            card::clean(&item.from),
        );
        let line: String = line.chars().take(width.saturating_sub(1)).collect();
        out.push_str(&if item.draft == current { style.bold(&line) } else { style.dim(&line) });
        out.push('\n');
    }
    let rest = all.len().saturating_sub(start + SHOWN);
    if rest > 0 {
        out.push_str(&style.dim(&format!("  … {rest} more\n")));
    }
    out
}

pub async fn run(ctx: &mut Ctx, actor: &str) -> Result<Outcome> {
    let style = card::Style { color: std::env::var_os("NO_COLOR").is_none() };
    let categories = actions::known_categories(ctx.config()?);
    let mode = KeyMode::enter()?;
    let mut skipped: HashSet<String> = HashSet::new();
    let mut history: Vec<String> = Vec::new(); // drafts shown before, for "previous"
    let mut status = String::new();
    let mut current: Option<String> = None;
    let mut decided = 0u64;
    loop {
        let all = queue::list(ctx.ledger()?, &[])?;
        let waiting: Vec<&QueueItem> = all.iter().filter(|i| !skipped.contains(&i.draft)).collect();
        // Stay on the current draft while it is still pending, else take the most urgent one.
        let item = match current.as_ref().and_then(|c| all.iter().find(|i| &i.draft == c)) {
            Some(i) => i,
            None => match waiting.first() {
                Some(i) => *i,
                None => break,
            },
        };
        current = Some(item.draft.clone());
        let position = all.iter().position(|i| i.draft == item.draft).map(|p| p + 1).unwrap_or(0);
        let detail = queue::detail(ctx.ledger()?, &item.draft)?;
        let width = terminal_width();
        let room = terminal_height().saturating_sub(30).max(6);
        let mut screen = String::from("\x1b[2J\x1b[H");
        screen.push_str(&style.inverse(&format!(
            " mailroom review · {position} of {} pending · reviewing as {actor} ",
            all.len()
        )));
        screen.push('\n');
        screen.push_str(&queue_lines(&all, &item.draft, &skipped, style, width));
        screen.push('\n');
        screen.push_str(&card::render(&detail, style, width, room));
        screen.push('\n');
        if !status.is_empty() {
            screen.push_str(&style.green(&format!("{status}\n")));
        }
        screen.push_str(&style.bold(KEYS));
        screen.push(' ');
        print!("{screen}");
        std::io::stdout().flush()?;
        status.clear();
        let draft = item.draft.clone();
        let run_id = ctx.run_id();
        match read_key() {
            Key::Quit | Key::Char('q') => break,
            Key::Char('a') => match approve_and_deliver(ctx, &draft, actor, false).await {
                Ok(d) => {
                    decided += 1;
                    status = format!("✔ approved {} — {}", d.draft, d.note.unwrap_or_default());
                    history.push(draft);
                    current = None;
                }
                Err(e) => status = format!("✘ {e:#}"),
            },
            Key::Char('e') => {
                let body = detail.draft.body.clone();
                match mode.cooked(|| editor::edit_text(&body, &draft)) {
                    Ok(text) => match actions::edit(ctx.ledger()?, &draft, None, &text, actor) {
                        Ok(Some(_)) => status = "✔ edit saved — press a to approve it".into(),
                        Ok(None) => status = "unchanged".into(),
                        Err(e) => status = format!("✘ {e:#}"),
                    },
                    Err(e) => status = format!("✘ {e:#}"),
                }
            }
            Key::Char('r') => match prompt(&mode, "Reason for rejecting (empty to cancel): ") {
                Some(reason) if !reason.is_empty() => match actions::reject(ctx.ledger()?, &draft, actor, &reason, run_id) {
                    Ok(_) => {
                        decided += 1;
                        status = format!("✔ rejected {draft}");
                        history.push(draft);
                        current = None;
                    }
                    Err(e) => status = format!("✘ {e:#}"),
                },
                _ => status = "not rejected".into(),
            },
            Key::Char('h') => {
                let note = prompt(&mode, "How was it handled? (optional, Enter to skip): ").unwrap_or_default();
                match actions::handle(ctx.ledger()?, &draft, actor, Some(&note), run_id) {
                    Ok(_) => {
                        decided += 1;
                        status = format!("✔ marked {draft} handled");
                        history.push(draft);
                        current = None;
                    }
                    Err(e) => status = format!("✘ {e:#}"),
                }
            }
            Key::Char('c') => {
                let menu: Vec<String> = categories.iter().enumerate().map(|(i, c)| format!("{}) {c}", i + 1)).collect();
                let answer = prompt(&mode, &format!("{}\nNew category (number or name, empty to cancel): ", menu.join("  ")))
                    .unwrap_or_default();
                let chosen = answer
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| categories.get(n.wrapping_sub(1)).cloned())
                    .unwrap_or(answer);
                if chosen.is_empty() {
                    status = "category unchanged".into();
                } else {
                    let (config, ledger) = ctx.config_and_ledger()?;
                    match actions::recategorize(ledger, config, &draft, &chosen, actor, run_id) {
                        Ok(_) => status = format!("✔ now {chosen} (saved as a training label)"),
                        Err(e) => status = format!("✘ {e:#}"),
                    }
                }
            }
            Key::Char('s') | Key::Char('n') | Key::Char(' ') | Key::Right => {
                skipped.insert(draft.clone());
                history.push(draft);
                current = None;
            }
            Key::Char('p') | Key::Left => match history.pop() {
                Some(prev) => {
                    skipped.remove(&prev);
                    if all.iter().any(|i| i.draft == prev) {
                        current = Some(prev);
                    } else {
                        status = format!("{prev} was decided already (see `mailroom review show {prev}`)");
                    }
                }
                None => status = "this is the first one".into(),
            },
            Key::Char('v') => page(&mode, &card::render(&detail, style, width, 0)),
            Key::Char('?') => status = KEYS.to_string(),
            _ => status = format!("keys: {KEYS}"),
        }
    }
    drop(mode);
    let remaining = queue::list(ctx.ledger()?, &[])?.len();
    println!(
        "\n{} decided this session, {remaining} still pending{}.",
        decided,
        if skipped.is_empty() { String::new() } else { format!(" ({} skipped)", skipped.len()) }
    );
    ctx.count("decided", decided);
    Ok(Outcome::Success)
}
