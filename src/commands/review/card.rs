//! One draft as text for a terminal: used by `review show` and the interactive review.
//!
//! Customer text is stripped of control characters first, so an e-mail cannot move the
//! cursor, retitle the window or hide text with escape sequences.

use crate::stages::review::queue::{Detail, age_label};

/// Terminal styling, off when NO_COLOR is set or output is not a terminal.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn inverse(&self, s: &str) -> String {
        self.wrap("7", s)
    }
}

/// Removes control characters except newline and tab; turns `\r\n` into `\n`.
pub fn clean(s: &str) -> String {
    s.replace("\r\n", "\n").chars().filter(|c| *c == '\n' || *c == '\t' || !c.is_control()).collect()
}

/// Word-wraps `text` to `width` columns (counting chars), keeping existing line breaks.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let width = width.max(20).saturating_sub(indent.chars().count());
    let mut out = String::new();
    for line in text.lines() {
        let mut current = String::new();
        for word in line.split(' ') {
            let cur_len = current.chars().count();
            let word_len = word.chars().count();
            if cur_len > 0 && cur_len + 1 + word_len > width {
                out.push_str(indent);
                out.push_str(current.trim_end());
                out.push('\n');
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            // A single word longer than the line is cut into pieces.
            let mut w = word.to_string();
            while w.chars().count() > width {
                let head: String = w.chars().take(width).collect();
                out.push_str(indent);
                out.push_str(&head);
                out.push('\n');
                w = w.chars().skip(width).collect();
            }
            current.push_str(&w);
        }
        out.push_str(indent);
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

fn heading(style: Style, title: &str, width: usize) -> String {
    let rule = "─".repeat(width.min(72).saturating_sub(title.chars().count() + 4));
    format!("\n{} {}\n", style.bold(&format!("── {title}")), style.dim(&rule))
}

/// The badge line: "P1 · refund · risk high · pending".
pub fn badges(style: Style, priority: Option<&str>, category: Option<&str>, risk: &str, state: &str) -> String {
    let prio = priority.unwrap_or("P?");
    let prio = if matches!(prio, "P1" | "P2") { style.red(prio) } else { style.bold(prio) };
    let risk = if risk == "high" { style.red(&format!("risk {risk}")) } else { format!("risk {risk}") };
    format!("{prio} · {} · {risk} · {state}", category.unwrap_or("untriaged"))
}

/// The whole card. `max_message_lines` cuts a long message (0: no limit).
pub fn render(d: &Detail, style: Style, width: usize, max_message_lines: usize) -> String {
    let draft = &d.draft;
    let mut out = String::new();
    out.push_str(&badges(style, draft.priority.as_deref(), draft.category.as_deref(), &draft.risk, draft.state.as_str()));
    out.push('\n');
    let field = |name: &str, value: &str| format!("{} {}\n", style.dim(&format!("{name:<9}")), clean(value).replace('\n', " "));
    out.push_str(&field("From", &d.from));
    let subject = d.record.as_ref().map(|r| r.subject.as_str()).unwrap_or("");
    out.push_str(&field("Subject", subject));
    if !d.received.is_empty() {
        out.push_str(&field("Received", &format!("{} (waiting {})", d.received, age_label(&d.received))));
    }
    out.push_str(&field("Draft", &format!("{}  message {}", draft.id, draft.message)));
    if let Some(by) = &draft.decided_by {
        let reason = draft.decision_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        out.push_str(&field("Decided", &format!("{} by {by} at {}{reason}", draft.state.as_str(), draft.decided_at.as_deref().unwrap_or("?"))));
    }

    out.push_str(&heading(style, "Message", width));
    let text = d.record.as_ref().map(|r| r.best_text().to_string()).unwrap_or_default();
    let text = clean(&text);
    let text = if text.trim().is_empty() { "(no text)".to_string() } else { text };
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let shown = if max_message_lines > 0 && lines.len() > max_message_lines { &lines[..max_message_lines] } else { &lines[..] };
    out.push_str(&wrap(&shown.join("\n"), width, "  "));
    if shown.len() < lines.len() {
        out.push_str(&style.dim(&format!("  … {} more lines (v: view the whole message)\n", lines.len() - shown.len())));
    }
    if let Some(r) = &d.record {
        for a in &r.attachments {
            out.push_str(&style.dim(&format!(
                "  📎 {} ({}, {} bytes)\n",
                clean(a.filename.as_deref().unwrap_or("unnamed")),
                clean(&a.content_type),
                a.size
            )));
        }
    }

    out.push_str(&heading(style, &format!("Draft reply — {}", clean(&draft.subject)), width));
    out.push_str(&wrap(clean(&draft.body).trim_end(), width, "  "));

    out.push_str(&heading(style, "Checklist", width));
    if d.checklist.is_empty() {
        out.push_str(&style.green("  nothing missing\n"));
    } else {
        for item in &d.checklist {
            out.push_str(&format!("  {} {}\n", style.yellow("☐"), clean(item)));
        }
    }
    if !d.reasons.is_empty() {
        out.push_str(&heading(style, "Why", width));
        for r in &d.reasons {
            out.push_str(&wrap(&format!("• {}", clean(r)), width, "  "));
        }
    }
    if !d.sources.is_empty() {
        out.push_str(&style.dim(&format!("  sources: {}\n", clean(&d.sources.join(", ")))));
    }
    out.push_str(&heading(style, "History", width));
    for e in &d.history {
        let actor = e.actor.as_deref().map(|a| format!(" by {}", clean(a))).unwrap_or_default();
        let status = if e.status == "ok" { String::new() } else { format!(" [{}]", e.status) };
        let reason = e
            .detail
            .as_ref()
            .and_then(|v| v.get("reason").or_else(|| v.get("error")))
            .and_then(|v| v.as_str())
            .map(|r| format!(": {}", clean(r)))
            .unwrap_or_default();
        out.push_str(&format!("  {} {}{actor}{status}{reason}\n", style.dim(&e.at), e.kind));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_in_mail_are_removed() {
        assert_eq!(clean("a\x1b]0;pwned\x07b\r\nc\u{9b}31m"), "a]0;pwnedb\nc31m");
    }

    #[test]
    fn wrapping_keeps_words_and_breaks() {
        let w = wrap("one two three four\nfive", 28, "  ");
        assert_eq!(w, "  one two three four\n  five\n");
        let w = wrap(&"x".repeat(45), 22, "");
        assert!(w.lines().all(|l| l.chars().count() <= 22), "{w}");
    }
}
