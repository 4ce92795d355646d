//! The digest as Markdown (chat, terminal, e-mail text part) and as HTML (e-mail, browser).
//!
//! HTML goes through a minijinja template with autoescaping on: subjects and sender names
//! are customer-controlled text and must never become markup. The volume chart is inline SVG
//! whose geometry is computed here, so the template only places numbers.

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Counts, DayVolume, Digest};
use crate::stages::duration;

const HTML_TEMPLATE: &str = include_str!("digest.html.j2");

/// Eight levels, lowest to highest, for a one-line chart on a terminal or in chat.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline: one block per value, scaled to the largest; zero is a blank-ish floor.
pub fn sparkline(values: &[i64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|&v| {
            if v <= 0 {
                ' '
            } else {
                // Any non-zero day shows at least the lowest bar.
                let level = ((v as f64 / max as f64) * (BLOCKS.len() - 1) as f64).round() as usize;
                BLOCKS[level.clamp(0, BLOCKS.len() - 1)]
            }
        })
        .collect()
}

/// "+3", "-2", "0".
pub fn signed(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}

/// "42m", "2h 5m", "n/a".
pub fn minutes(m: Option<f64>) -> String {
    match m {
        Some(m) => duration::format(chrono::TimeDelta::seconds((m * 60.0).round() as i64)),
        None => "n/a".into(),
    }
}

/// "30h", "2d 4h", "n/a".
pub fn hours(h: Option<f64>) -> String {
    minutes(h.map(|h| h * 60.0))
}

pub fn percent(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "n/a".into(),
    }
}

/// One line about pending reviews: "3 (oldest 30h, median 4h; 1 over the 24h SLA)".
pub fn pending_line(d: &Digest) -> String {
    let p = &d.pending;
    if p.count == 0 {
        return "none".into();
    }
    format!(
        "{} (oldest {}, median {}; {} over the {}h SLA)",
        p.count,
        hours(p.oldest_age_hours),
        hours(p.median_age_hours),
        p.overdue,
        p.sla_hours
    )
}

/// The filter in one line: verdicts that occurred, spam ratio, model calls saved.
pub fn filter_line(d: &Digest) -> String {
    let f = &d.filter;
    let verdicts: Vec<String> =
        f.verdicts.iter().filter(|v| v.count > 0).map(|v| format!("{} {}", v.name, v.count)).collect();
    let mut line = if verdicts.is_empty() { "no verdicts".to_string() } else { verdicts.join(" · ") };
    line.push_str(&format!("; spam ratio {}", percent(f.spam_ratio)));
    if f.unfiltered > 0 {
        line.push_str(&format!("; {} not filtered yet", f.unfiltered));
    }
    line.push_str(&format!(
        "; {} dropped before classify and draft ({} model calls saved)",
        f.dropped, f.model_calls_saved
    ));
    line
}

/// Service cases in one line: what moved in the window, what is open now.
pub fn cases_line(d: &Digest) -> String {
    let c = &d.cases;
    let open: Vec<String> =
        c.open.iter().map(|s| format!("{} {}", s.name.replace("waiting_", "waiting on ").replace('_', " "), s.count)).collect();
    format!(
        "{} opened, {} resolved, {} cancelled; {} replies asked the customer, {} customers answered, \
         {} answered from a mail client, {} reminders; open now: {}; {} waiting on us beyond the SLA",
        c.opened,
        c.resolved,
        c.cancelled,
        c.asked_customer,
        c.customer_answers,
        c.team_replies,
        c.follow_ups,
        open.join(", "),
        c.over_sla
    )
}

/// Per category, how often people approve drafts as written: "shipping 18/20 as written
/// (90%; low risk 17/18, auto-send candidate)".
pub fn trust_lines(d: &Digest) -> Vec<String> {
    d.trust
        .iter()
        .map(|t| {
            let mut line = format!(
                "{}: {}/{} approved as written ({}), {} edited, {} rejected, {} handled otherwise",
                t.category,
                t.approved_unchanged,
                t.decided,
                percent(t.acceptance),
                t.approved_edited,
                t.rejected,
                t.handled
            );
            if t.low_risk_decided > 0 {
                line.push_str(&format!(
                    "; low risk {}/{} ({})",
                    t.low_risk_approved_unchanged,
                    t.low_risk_decided,
                    percent(t.low_risk_acceptance)
                ));
            }
            if t.auto_sent > 0 {
                line.push_str(&format!("; {} auto-sent", t.auto_sent));
            }
            if t.auto_send_candidate {
                line.push_str(" — auto-send candidate");
            }
            line
        })
        .collect()
}

/// The weekly acceptance figures, one line each (terminal, chat, Markdown list).
pub fn acceptance_lines(d: &Digest) -> Vec<String> {
    let a = &d.acceptance;
    let r = &a.reception;
    let mut lines = vec![
        format!("Cases: {} opened, {} resolved", a.cases_opened, a.cases_resolved),
        format!(
            "Automated reception: {} of {} customer messages taken in without a person ({} filtered out, {} drafted)",
            percent(r.share),
            r.received,
            r.filtered_out,
            r.drafted
        ),
        format!(
            "Review pass rate: {} ({} of {} decided drafts approved as written)",
            percent(a.review.share),
            a.review.approved_as_written,
            a.review.decided
        ),
    ];
    if a.shadow.is_empty() {
        lines.push("Shadow policy: nothing shadowed or decided (`mailroom send --auto --shadow`)".into());
    }
    for s in &a.shadow {
        lines.push(format!(
            "Shadow policy, {}: agreed {}/{} ({}); {} shadowed, {} would send; {} would-send overruled",
            s.category,
            s.agreed,
            s.decided,
            percent(s.share),
            s.shadowed,
            s.would_send,
            s.would_send_overruled
        ));
    }
    let t = &a.waiting_timeouts;
    lines.push(format!(
        "Waiting timeouts: {} of {} cases waiting on the customer timed out ({})",
        t.timed_out,
        t.waited,
        percent(t.share)
    ));
    lines.push(format!(
        "Time to first reply: median {} (n={})",
        minutes(a.first_reply.median_minutes),
        a.first_reply.count
    ));
    let e = &a.evidence;
    let mut evidence = format!(
        "Evidence: {} of {} cases with every state change recorded ({})",
        e.complete,
        e.cases,
        percent(e.share)
    );
    if !e.incomplete_cases.is_empty() {
        evidence.push_str(&format!("; gaps in {}", e.incomplete_cases.join(", ")));
    }
    lines.push(evidence);
    lines
}

/// Escapes text for Markdown (subjects and names are customer-controlled) and keeps it on one line.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The whole digest as GitHub-flavoured Markdown.
pub fn markdown(d: &Digest) -> String {
    let mut out = String::new();
    let w = &d.window;
    out.push_str(&format!("# {} digest: {}\n\n", md(&d.team), w.label));
    out.push_str(&format!(
        "From {} to {} ({}), compared with {}.\n\n",
        w.local_start, w.local_end, d.timezone, d.previous_window.label
    ));
    out.push_str("| | this window | previous | change |\n|---|---:|---:|---:|\n");
    for ((label, now), (_, before)) in d.counts.rows().into_iter().zip(d.previous.rows()) {
        out.push_str(&format!("| {label} | {now} | {before} | {} |\n", signed(now - before)));
    }
    out.push_str(&format!("\n**Pending review:** {}\n\n", pending_line(d)));
    out.push_str(&format!("**Filter:** {}\n\n", filter_line(d)));
    out.push_str(&format!(
        "**Response times (median):** arrival to first draft {} (n={}), arrival to send {} (n={})\n\n",
        minutes(d.response.first_draft.median_minutes),
        d.response.first_draft.count,
        minutes(d.response.send.median_minutes),
        d.response.send.count
    ));
    out.push_str(&format!("**Cases:** {}\n\n", cases_line(d)));
    for o in &d.cases.over_sla_cases {
        out.push_str(&format!(
            "- over SLA: case `{}` {} ({}, waiting {}h of {}h{})\n",
            o.case,
            md(o.subject.as_deref().unwrap_or("")),
            o.priority.as_deref().unwrap_or("no priority"),
            o.waiting_hours,
            o.sla_hours,
            o.owner.as_deref().map(|w| format!(", owner {}", md(w))).unwrap_or_default()
        ));
    }
    if !d.cases.over_sla_cases.is_empty() {
        out.push('\n');
    }
    out.push_str("## Trust in the drafts\n\n");
    if d.trust.is_empty() {
        out.push_str("No drafts decided by a person in this window.\n\n");
    } else {
        out.push_str(
            "| category | decided | as written | edited | rejected | handled | accepted | low risk accepted | auto-sent | |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for t in &d.trust {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                md(&t.category),
                t.decided,
                t.approved_unchanged,
                t.approved_edited,
                t.rejected,
                t.handled,
                percent(t.acceptance),
                percent(t.low_risk_acceptance),
                t.auto_sent,
                if t.auto_send_candidate { "auto-send candidate" } else { "" }
            ));
        }
        out.push('\n');
    }
    out.push_str("## Acceptance\n\n");
    for line in acceptance_lines(d) {
        out.push_str(&format!("- {}\n", md(&line)));
    }
    out.push('\n');
    out.push_str("## Categories\n\n");
    if d.categories.is_empty() {
        out.push_str("No triaged messages.\n\n");
    } else {
        out.push_str("| category | messages |\n|---|---:|\n");
        for c in &d.categories {
            out.push_str(&format!("| {} | {} |\n", md(&c.name), c.count));
        }
        out.push('\n');
    }
    out.push_str("## Priorities\n\n| priority | messages |\n|---|---:|\n");
    for p in &d.priorities {
        out.push_str(&format!("| {} | {} |\n", md(&p.name), p.count));
    }
    out.push_str("\n## Needs attention\n\n");
    if d.urgent.is_empty() {
        out.push_str("No P1 or P2 messages.\n");
    }
    for s in &d.urgent {
        out.push_str(&format!(
            "- **{}** {}: {}, from {} ({}) [review]({})\n",
            md(s.priority.as_deref().unwrap_or("?")),
            md(s.category.as_deref().unwrap_or("uncategorised")),
            md(&s.subject),
            md(&s.sender),
            s.draft_state.as_deref().unwrap_or("no draft"),
            s.link.replace(')', "%29"),
        ));
    }
    let values: Vec<i64> = d.volume.iter().map(|v| v.messages).collect();
    if let (Some(first), Some(last)) = (d.volume.first(), d.volume.last()) {
        out.push_str(&format!(
            "\n## Volume, last {} days\n\n`{}` {} to {}, {} messages (most in one day: {})\n",
            d.volume.len(),
            sparkline(&values),
            first.date,
            last.date,
            values.iter().sum::<i64>(),
            values.iter().max().unwrap_or(&0)
        ));
    }
    out
}

/// A compact plain-text digest for group chats, which render Markdown tables poorly or not at
/// all: headline figures with their change, pending reviews, the urgent samples with plain
/// links (every chat turns those into links), and the sparkline.
pub fn chat(d: &Digest) -> String {
    let (c, ch) = (&d.counts, &d.change);
    let with = |n: i64, delta: i64| if delta == 0 { n.to_string() } else { format!("{n} ({})", signed(delta)) };
    let mut out = format!("Compared with {}.\n", d.previous_window.label);
    out.push_str(&format!(
        "New {} · dropped {} · drafted {} · sent {} (auto {}) · handled {} · rejected {} · failed {}\n",
        with(c.new, ch.new),
        with(c.dropped, ch.dropped),
        with(c.drafted, ch.drafted),
        with(c.sent, ch.sent),
        c.auto_sent,
        c.handled,
        c.rejected,
        c.failed
    ));
    out.push_str(&format!("Pending review: {}\n", pending_line(d)));
    out.push_str(&format!(
        "Median time to first draft {}, to send {}\n",
        minutes(d.response.first_draft.median_minutes),
        minutes(d.response.send.median_minutes)
    ));
    out.push_str(&format!("Filter: {}\n", filter_line(d)));
    out.push_str(&format!("Cases: {}\n", cases_line(d)));
    for line in trust_lines(d).iter().take(5) {
        out.push_str(&format!("Drafts, {line}\n"));
    }
    for line in acceptance_lines(d) {
        out.push_str(&format!("{line}\n"));
    }
    let top: Vec<String> = d.categories.iter().take(5).map(|c| format!("{} {}", c.name, c.count)).collect();
    if !top.is_empty() {
        out.push_str(&format!("Categories: {}\n", top.join(", ")));
    }
    let prios: Vec<String> = d.priorities.iter().map(|p| format!("{} {}", p.name, p.count)).collect();
    out.push_str(&format!("Priorities: {}\n", prios.join(", ")));
    if !d.urgent.is_empty() {
        out.push_str("Needs attention:\n");
    }
    for s in &d.urgent {
        let subject: String = s.subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        out.push_str(&format!(
            "- {} {}: {} ({}, draft {})\n  {}\n",
            s.priority.as_deref().unwrap_or("?"),
            s.category.as_deref().unwrap_or("uncategorised"),
            subject,
            s.sender,
            s.draft_state.as_deref().unwrap_or("none"),
            s.link
        ));
    }
    let values: Vec<i64> = d.volume.iter().map(|v| v.messages).collect();
    out.push_str(&format!("Last {} days: {}\n", values.len(), sparkline(&values)));
    out
}

/// The title of a digest message (chat title, e-mail subject).
pub fn title(d: &Digest) -> String {
    format!(
        "{} digest {}: {} new, {} pending, {} sent",
        d.team, d.window.label, d.counts.new, d.counts.pending, d.counts.sent
    )
}

/// Geometry of the inline SVG bar chart.
#[derive(Debug, Serialize)]
struct Chart {
    width: u32,
    height: u32,
    /// Baseline y of the bars.
    base: u32,
    max: i64,
    bars: Vec<Bar>,
}

#[derive(Debug, Serialize)]
struct Bar {
    x: u32,
    width: u32,
    /// Whole bar (all messages).
    y: u32,
    height: u32,
    /// The dropped part, drawn lighter at the top of the bar.
    dropped_height: u32,
    date: String,
    /// Day of month, for the axis label.
    day: String,
    messages: i64,
    dropped: i64,
}

fn chart(volume: &[DayVolume]) -> Chart {
    let (bar_w, gap, plot_h, top) = (28u32, 8u32, 120u32, 16u32);
    let max = volume.iter().map(|v| v.messages).max().unwrap_or(0);
    let scale = |n: i64| ((n.max(0) as f64 / max.max(1) as f64) * plot_h as f64).round() as u32;
    let bars = volume
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let height = scale(v.messages);
            Bar {
                x: gap + i as u32 * (bar_w + gap),
                width: bar_w,
                y: top + plot_h - height,
                height,
                dropped_height: scale(v.dropped.min(v.messages)),
                day: v.date.get(8..).unwrap_or("").trim_start_matches('0').to_string(),
                date: v.date.clone(),
                messages: v.messages,
                dropped: v.dropped,
            }
        })
        .collect();
    Chart { width: gap + volume.len() as u32 * (bar_w + gap), height: top + plot_h + 20, base: top + plot_h, max, bars }
}

/// One row of the comparison table in the HTML view.
#[derive(Debug, Serialize)]
struct Row {
    label: &'static str,
    now: i64,
    before: i64,
    change: String,
}

fn rows(now: &Counts, before: &Counts) -> Vec<Row> {
    now.rows()
        .into_iter()
        .zip(before.rows())
        .map(|((label, n), (_, b))| Row { label, now: n, before: b, change: signed(n - b) })
        .collect()
}

/// The digest as a standalone HTML page with an inline SVG chart.
pub fn html(d: &Digest) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.add_template("digest.html", HTML_TEMPLATE).context("digest template")?;
    let tmpl = env.get_template("digest.html").context("digest template")?;
    let ctx = minijinja::context! {
        d => d,
        title => title(d),
        rows => rows(&d.counts, &d.previous),
        pending => pending_line(d),
        cases => cases_line(d),
        acceptance => acceptance_lines(d),
        filter => filter_line(d),
        first_draft => minutes(d.response.first_draft.median_minutes),
        to_send => minutes(d.response.send.median_minutes),
        spam_ratio => percent(d.filter.spam_ratio),
        chart => chart(&d.volume),
        sparkline => sparkline(&d.volume.iter().map(|v| v.messages).collect::<Vec<_>>()),
    };
    tmpl.render(ctx).context("rendering the digest as HTML")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::digest::acceptance::{Acceptance, Agreement, Coverage, Evidence, PassRate, TimeoutRate};
    use crate::stages::digest::cases::{CaseFigures, TrustRow};
    use crate::stages::digest::{FilterFigures, NameCount, PendingFigures, ResponseTimes, Sample, Timing, WindowInfo};

    fn digest() -> Digest {
        let info = |label: &str| WindowInfo {
            start: "s".into(),
            end: "e".into(),
            local_start: "ls".into(),
            local_end: "le".into(),
            label: label.into(),
        };
        Digest {
            team: "Northwind".into(),
            timezone: "UTC".into(),
            generated_at: "now".into(),
            window: info("2026-11-02"),
            previous_window: info("2026-11-01"),
            counts: Counts { new: 5, sent: 2, ..Default::default() },
            previous: Counts { new: 7, sent: 2, ..Default::default() },
            change: Counts { new: -2, ..Default::default() },
            filter: FilterFigures {
                verdicts: vec![
                    NameCount { name: "pass".into(), count: 4 },
                    NameCount { name: "spam".into(), count: 1 },
                ],
                filtered: 5,
                unfiltered: 0,
                spam_ratio: Some(0.2),
                dropped: 1,
                model_calls_saved: 2,
            },
            pending: PendingFigures {
                count: 0,
                overdue: 0,
                sla_hours: 24,
                oldest_age_hours: None,
                median_age_hours: None,
            },
            categories: vec![NameCount { name: "refund".into(), count: 3 }],
            priorities: vec![NameCount { name: "P1".into(), count: 1 }],
            response: ResponseTimes {
                first_draft: Timing { count: 3, median_minutes: Some(42.0) },
                send: Timing { count: 0, median_minutes: None },
            },
            urgent: vec![Sample {
                id: "m1".into(),
                arrived_at: "t".into(),
                priority: Some("P1".into()),
                category: Some("refund".into()),
                escalate: true,
                subject: "<script>alert(1)</script> | *now*".into(),
                sender: "Eve <eve@example.com>".into(),
                draft_state: Some("pending".into()),
                link: "http://127.0.0.1:8025/m/m1?t=1.ab".into(),
            }],
            volume: (1..=14)
                .map(|i| DayVolume { date: format!("2026-10-{:02}", 19 + i), messages: i % 5, dropped: (i % 5).min(1) })
                .collect(),
            cases: CaseFigures {
                opened: 3,
                resolved: 1,
                cancelled: 0,
                asked_customer: 1,
                customer_answers: 1,
                team_replies: 1,
                follow_ups: 0,
                open: vec![NameCount { name: "waiting_customer".into(), count: 2 }],
                over_sla: 0,
                over_sla_cases: vec![],
            },
            trust: vec![TrustRow {
                category: "shipping".into(),
                decided: 20,
                approved_unchanged: 19,
                approved_edited: 1,
                rejected: 0,
                handled: 0,
                acceptance: Some(0.95),
                low_risk_decided: 20,
                low_risk_approved_unchanged: 19,
                low_risk_acceptance: Some(0.95),
                auto_sent: 0,
                auto_send_candidate: true,
            }],
            acceptance: Acceptance {
                cases_opened: 3,
                cases_resolved: 1,
                reception: Coverage { received: 5, filtered_out: 1, drafted: 2, covered: 3, share: Some(0.6) },
                review: PassRate { decided: 20, approved_as_written: 19, share: Some(0.95) },
                shadow: vec![Agreement {
                    category: "shipping".into(),
                    shadowed: 4,
                    would_send: 3,
                    decided: 3,
                    agreed: 2,
                    share: Some(2.0 / 3.0),
                    would_send_overruled: 1,
                }],
                waiting_timeouts: TimeoutRate { waited: 2, timed_out: 1, share: Some(0.5) },
                first_reply: Timing { count: 3, median_minutes: Some(120.0) },
                evidence: Evidence { cases: 3, complete: 2, share: Some(2.0 / 3.0), incomplete_cases: vec!["c1".into()] },
            },
        }
    }

    #[test]
    fn chat_text_is_short_and_links_are_plain() {
        let text = chat(&digest());
        assert!(text.contains("New 5 (-2) · dropped 0 · drafted 0 · sent 2 (auto 0)"), "{text}");
        assert!(text.contains("\n  http://127.0.0.1:8025/m/m1?t=1.ab\n"), "{text}");
        assert!(!text.contains("|---"), "no tables: {text}");
        assert!(text.contains("Waiting timeouts: 1 of 2 cases waiting on the customer timed out (50%)"), "{text}");
        assert!(text.len() < 2500, "{} bytes", text.len());
    }

    #[test]
    fn sparkline_scales_to_the_largest_value() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8]), " ▂▃▅█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn markdown_escapes_customer_text_and_shows_changes() {
        let text = markdown(&digest());
        assert!(text.contains("| New messages | 5 | 7 | -2 |"), "{text}");
        assert!(text.contains("| Sent | 2 | 2 | 0 |"), "{text}");
        assert!(text.contains(r"\<script\>alert(1)\</script\> \| \*now\*"), "{text}");
        assert!(text.contains("[review](http://127.0.0.1:8025/m/m1?t=1.ab)"), "{text}");
        assert!(text.contains("spam ratio 20%"), "{text}");
        assert!(text.contains("2 model calls saved"), "{text}");
        assert!(text.contains("arrival to first draft 42m (n=3)"), "{text}");
        assert!(text.contains("3 opened, 1 resolved"), "{text}");
        assert!(text.contains("| shipping | 20 | 19 | 1 | 0 | 0 | 95% | 95% | 0 | auto-send candidate |"), "{text}");
        assert!(text.contains("- Automated reception: 60% of 5 customer messages"), "{text}");
        assert!(text.contains("- Shadow policy, shipping: agreed 2/3 (67%); 4 shadowed, 3 would send; 1 would-send overruled"), "{text}");
        assert!(text.contains("- Time to first reply: median 2h"), "{text}");
        assert!(text.contains("- Evidence: 2 of 3 cases with every state change recorded (67%); gaps in c1"), "{text}");
    }

    #[test]
    fn html_escapes_customer_text_and_draws_one_bar_per_day() {
        let page = html(&digest()).unwrap();
        assert!(!page.contains("<script>alert(1)"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{page}");
        assert_eq!(page.matches("class=\"bar\"").count(), 14, "{page}");
        assert!(page.contains("<svg"), "{page}");
        assert!(page.contains("<td class=\"n\">95%</td>"), "{page}");
        assert!(page.contains("auto-send candidate"), "{page}");
        assert!(page.contains("<li>Review pass rate: 95% (19 of 20 decided drafts approved as written)</li>"), "{page}");
        assert!(page.contains("<td>shipping</td><td class=\"n\">4</td><td class=\"n\">3</td><td class=\"n\">3</td><td class=\"n\">2</td><td class=\"n\">67%</td>"), "{page}");
        assert!(page.contains("href=\"http:&#x2f;&#x2f;127.0.0.1:8025&#x2f;m&#x2f;m1?t=1.ab\""), "{page}");
    }
}
