//! The JSON body each chat expects.
//!
//! Text from the customer (subject, sender) is made inert before it is put into a chat's
//! markup, so a subject such as `[click](http://evil)` or `<!channel>` shows as text and never
//! becomes a link or a mention.
//!
//! The generic `json` flavour is mailroom's own shape, stable for scripts:
//!
//! ```json
//! {"v": 1, "event": "review_needed", "team": "Support", "message": "m…", "draft": "d…",
//!  "priority": "P2", "category": "refund", "risk": "high", "escalate": false,
//!  "from": "Jane <jane@example.com>", "subject": "…", "checklist": ["order number"],
//!  "review_url": "https://…/m/m…?t=…", "text": "one-line summary"}
//! ```

use serde_json::{Value, json};

use super::{Flavour, Notice};

/// WeCom and DingTalk cut markdown at 4096 bytes; stay well inside.
const MAX_MARKDOWN_BYTES: usize = 3500;
const MAX_FIELD_CHARS: usize = 200;

/// The body to POST for `notice` to a webhook of `flavour`.
pub fn build(flavour: Flavour, notice: &Notice) -> Value {
    match flavour {
        Flavour::Slack => slack(notice),
        Flavour::Wecom => json!({"msgtype": "markdown", "markdown": {"content": truncate_bytes(&markdown(notice, MdDialect::Wecom), MAX_MARKDOWN_BYTES)}}),
        Flavour::Feishu => feishu(notice),
        Flavour::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": {"title": title(notice), "text": truncate_bytes(&markdown(notice, MdDialect::Dingtalk), MAX_MARKDOWN_BYTES)},
        }),
        Flavour::Json => json!({
            "v": 1,
            "event": "review_needed",
            "team": notice.team,
            "message": notice.message,
            "draft": notice.draft,
            "priority": notice.priority,
            "category": notice.category,
            "risk": notice.risk,
            "escalate": notice.escalate,
            "from": notice.sender,
            "subject": notice.subject,
            "checklist": notice.checklist,
            "review_url": notice.link,
            "text": title(notice),
        }),
    }
}

/// "P2 refund: Where is my refund?" — the one-line summary every flavour starts with.
pub fn title(n: &Notice) -> String {
    let prio = if n.priority.is_empty() { "P?" } else { &n.priority };
    let cat = if n.category.is_empty() { "untriaged" } else { &n.category };
    let subject = if n.subject.trim().is_empty() { "(no subject)" } else { n.subject.trim() };
    format!("{prio} {cat}: {}", one_line(subject))
}

fn checklist_text(n: &Notice) -> String {
    if n.checklist.is_empty() { "nothing missing".into() } else { n.checklist.join("; ") }
}

/// A single line of at most MAX_FIELD_CHARS characters.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > MAX_FIELD_CHARS {
        flat.chars().take(MAX_FIELD_CHARS).collect::<String>() + "…"
    } else {
        flat
    }
}

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Slack mrkdwn: `&`, `<` and `>` are its only control characters (links, mentions).
fn slack_escape(s: &str) -> String {
    one_line(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Markdown dialects of WeCom, DingTalk and Feishu have no reliable escape character, so
/// the characters that make links, tags and emphasis are swapped for look-alikes.
fn md_inert(s: &str) -> String {
    one_line(s)
        .chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '<' => '‹',
            '>' => '›',
            '*' => '∗',
            '`' => 'ˋ',
            '#' => '＃',
            c => c,
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum MdDialect {
    Wecom,
    Dingtalk,
    Feishu,
}

fn priority_color(p: &str) -> &'static str {
    match p {
        "P1" => "red",
        "P2" => "orange",
        "P3" => "blue",
        _ => "grey",
    }
}

fn markdown(n: &Notice, dialect: MdDialect) -> String {
    let prio = if n.priority.is_empty() { "P?".to_string() } else { n.priority.clone() };
    let prio = match dialect {
        // WeCom colours: info (green), comment (grey), warning (orange-red).
        MdDialect::Wecom if matches!(n.priority.as_str(), "P1" | "P2") => format!("<font color=\"warning\">{prio}</font>"),
        MdDialect::Feishu => format!("<font color='{}'>{prio}</font>", priority_color(&n.priority)),
        _ => prio,
    };
    let mut lines = Vec::new();
    if dialect != MdDialect::Feishu {
        lines.push(format!("### {}", md_inert(&title(n))));
    }
    let cat = if n.category.is_empty() { "untriaged".to_string() } else { md_inert(&n.category) };
    let mut facts = format!("**Priority** {prio}  **Category** {cat}");
    if let Some(risk) = &n.risk {
        facts.push_str(&format!("  **Risk** {}", md_inert(risk)));
    }
    if n.escalate {
        facts.push_str("  **Escalate**");
    }
    lines.push(facts);
    lines.push(format!("**From** {}", md_inert(&n.sender)));
    lines.push(format!("**Subject** {}", md_inert(&n.subject)));
    lines.push(format!("**Checklist** {}", md_inert(&checklist_text(n))));
    if dialect != MdDialect::Feishu {
        lines.push(format!("[Open the review page]({})", n.link));
    }
    // DingTalk needs blank lines between paragraphs; WeCom keeps single newlines.
    let sep = if dialect == MdDialect::Dingtalk { "\n\n" } else { "\n" };
    lines.join(sep)
}

fn slack(n: &Notice) -> Value {
    let cat = if n.category.is_empty() { "untriaged".to_string() } else { slack_escape(&n.category) };
    let prio = if n.priority.is_empty() { "P?".to_string() } else { slack_escape(&n.priority) };
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Priority*\n{prio}")}),
        json!({"type": "mrkdwn", "text": format!("*Category*\n{cat}")}),
        json!({"type": "mrkdwn", "text": format!("*From*\n{}", slack_escape(&n.sender))}),
    ];
    if let Some(risk) = &n.risk {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Risk*\n{}", slack_escape(risk))}));
    }
    let checklist = if n.checklist.is_empty() {
        "nothing missing".to_string()
    } else {
        n.checklist.iter().map(|c| format!("• {}", slack_escape(c))).collect::<Vec<_>>().join("\n")
    };
    json!({
        "text": format!("{} — <{}|review>", slack_escape(&title(n)), n.link),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&title(n)))}},
            {"type": "section", "fields": fields},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*Checklist*\n{checklist}")}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Review"}, "url": n.link, "style": "primary"}
            ]},
        ],
    })
}

fn feishu(n: &Notice) -> Value {
    let template = match n.priority.as_str() {
        "P1" => "red",
        "P2" => "orange",
        "P3" => "blue",
        _ => "grey",
    };
    json!({
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": true},
            "header": {"title": {"tag": "plain_text", "content": title(n)}, "template": template},
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": markdown(n, MdDialect::Feishu)}},
                {"tag": "action", "actions": [
                    {"tag": "button", "text": {"tag": "plain_text", "content": "Review"}, "type": "primary", "url": n.link}
                ]},
            ],
        },
    })
}

/// Items listed in one batch message; the rest are counted.
const BATCH_ITEMS: usize = 20;

/// One message for several notices (`notify --batch`): a headline and one line per message,
/// each with its own review link. The json flavour lists the notices in `items`.
pub fn build_batch(flavour: Flavour, team: &str, notices: &[Notice]) -> Value {
    let headline = format!(
        "{} new message{} to review",
        notices.len(),
        if notices.len() == 1 { "" } else { "s" }
    );
    let shown = &notices[..notices.len().min(BATCH_ITEMS)];
    let more = notices.len() - shown.len();
    let more_line = (more > 0).then(|| format!("… and {more} more"));
    let md_lines = |sep: &str| -> String {
        let mut lines: Vec<String> = shown
            .iter()
            .map(|n| {
                let missing = if n.checklist.is_empty() { String::new() } else { format!(" · missing: {}", md_inert(&n.checklist.join(", "))) };
                format!("- {} — {}{missing} [review]({})", md_inert(&title(n)), md_inert(&n.sender), n.link)
            })
            .collect();
        lines.extend(more_line.clone());
        lines.join(sep)
    };
    match flavour {
        Flavour::Slack => {
            let mut lines: Vec<String> = shown
                .iter()
                .map(|n| format!("• <{}|{}> — {}", n.link, slack_escape(&title(n)), slack_escape(&n.sender)))
                .collect();
            lines.extend(more_line.clone());
            json!({
                "text": headline,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&headline))}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
                ],
            })
        }
        Flavour::Wecom => json!({"msgtype": "markdown", "markdown": {
            "content": truncate_bytes(&format!("### {}\n{}", md_inert(&headline), md_lines("\n")), MAX_MARKDOWN_BYTES)}}),
        Flavour::Dingtalk => json!({"msgtype": "markdown", "markdown": {"title": headline,
            "text": truncate_bytes(&format!("### {}\n\n{}", md_inert(&headline), md_lines("\n")), MAX_MARKDOWN_BYTES)}}),
        Flavour::Feishu => json!({
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": true},
                "header": {"title": {"tag": "plain_text", "content": headline}, "template": "blue"},
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": md_lines("\n")}}],
            },
        }),
        Flavour::Json => json!({
            "v": 1,
            "event": "review_batch",
            "team": team,
            "count": notices.len(),
            "text": headline,
            "items": notices.iter().map(|n| build(Flavour::Json, n)).collect::<Vec<_>>(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            team: "Support".into(),
            message: "m1".into(),
            draft: Some("d1".into()),
            priority: "P1".into(),
            category: "refund".into(),
            risk: Some("high".into()),
            sender: "Jane <jane@example.com>".into(),
            subject: "Refund [click](http://evil) <!channel> now".into(),
            checklist: vec!["order number".into(), "photos of the damage".into()],
            link: "http://127.0.0.1:8025/m/m1?t=1.ab".into(),
            escalate: true,
        }
    }

    #[test]
    fn slack_escapes_customer_text_and_links_the_page() {
        let v = build(Flavour::Slack, &notice());
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(text.ends_with("<http://127.0.0.1:8025/m/m1?t=1.ab|review>"), "{text}");
        assert_eq!(v["blocks"][3]["elements"][0]["url"], "http://127.0.0.1:8025/m/m1?t=1.ab");
        assert!(v["blocks"][2]["text"]["text"].as_str().unwrap().contains("• photos of the damage"));
    }

    #[test]
    fn markdown_flavours_defuse_links_in_customer_text() {
        for f in [Flavour::Wecom, Flavour::Dingtalk] {
            let v = build(f, &notice());
            let md = v["markdown"].get("content").or(v["markdown"].get("text")).unwrap().as_str().unwrap();
            assert!(!md.contains("[click]"), "{md}");
            assert!(md.contains("［click］"), "{md}");
            assert_eq!(md.matches("](").count(), 1, "only our own link: {md}");
            assert!(md.contains("order number; photos of the damage"), "{md}");
        }
        let f = build(Flavour::Feishu, &notice());
        assert_eq!(f["card"]["header"]["template"], "red");
        assert!(!f["card"]["elements"][0]["text"]["content"].as_str().unwrap().contains("[click]"));
    }

    #[test]
    fn long_text_is_cut_inside_the_chat_limits() {
        let mut n = notice();
        n.checklist = vec!["词".repeat(3000)];
        let v = build(Flavour::Wecom, &n);
        assert!(v["markdown"]["content"].as_str().unwrap().len() <= MAX_MARKDOWN_BYTES + 3);
    }

    #[test]
    fn a_batch_lists_each_message_with_its_own_link() {
        let mut second = notice();
        second.subject = "Second".into();
        second.link = "http://127.0.0.1:8025/m/m2?t=2.cd".into();
        let v = build_batch(Flavour::Dingtalk, "Support", &[notice(), second.clone()]);
        let text = v["markdown"]["text"].as_str().unwrap();
        assert_eq!(v["markdown"]["title"], "2 new messages to review");
        assert!(text.contains("(http://127.0.0.1:8025/m/m1?t=1.ab)") && text.contains("(http://127.0.0.1:8025/m/m2?t=2.cd)"), "{text}");
        let many: Vec<Notice> = (0..25).map(|_| second.clone()).collect();
        let v = build_batch(Flavour::Slack, "Support", &many);
        assert!(v["blocks"][1]["text"]["text"].as_str().unwrap().ends_with("… and 5 more"));
        assert_eq!(build_batch(Flavour::Json, "Support", &many)["items"].as_array().unwrap().len(), 25);
    }

    #[test]
    fn untriaged_messages_still_read_well() {
        let n = Notice { subject: " ".into(), link: "http://x/m/m1?t=1.a".into(), ..Default::default() };
        assert_eq!(title(&n), "P? untriaged: (no subject)");
        assert_eq!(build(Flavour::Json, &n)["checklist"], json!([]));
    }
}
