//! Reply templates: minijinja, one per category, built in and overridable by the team.
//!
//! The built-in templates live in `src/stages/draft/templates/<category>.txt.j2`. A file of
//! the same name in `[draft] templates_dir` replaces one; a file with a new name adds a
//! template for a team's own category. A category without a template uses `other`.
//! Undefined variables are errors, so a typo in a team's template is caught, not sent.
//!
//! Variables every template gets:
//!
//! | name | meaning |
//! |---|---|
//! | `greeting` | "Hello Emma," or "Hello," |
//! | `first_name` | the customer's first name, or none |
//! | `category`, `customer_language` | from triage (`customer_language` is none for English) |
//! | `language_note` | a short line in the customer's language saying we reply in English, or none |
//! | `order_ids`, `order_ref` | ids found in the message; "order NW-1" / "orders NW-1 and NW-2" / "your order" |
//! | `orders`, `order_facts` | order-lookup facts (only for orders whose customer is the sender), raw and as sentences |
//! | `identity_note` | the request to write from the address on the order, or none |
//! | `answer` | the grounded answer: knowledge excerpts (template backend) or the checked model answer |
//! | `has_policy_source` | whether any knowledge passage backs the answer |
//! | `questions`, `missing_info` | the checklist as questions and as keys |
//! | `sign_off`, `team_name` | from `[team]` |
//!
//! After rendering, trailing spaces go and runs of blank lines shrink to one.

use std::path::Path;

use anyhow::Result;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::ConfigError;

use super::lookup::OrderFacts;

/// (name, source) of the built-in templates.
const BUILT_IN: &[(&str, &str)] = &[
    ("shipping", include_str!("templates/shipping.txt.j2")),
    ("refund", include_str!("templates/refund.txt.j2")),
    ("return", include_str!("templates/return.txt.j2")),
    ("complaint", include_str!("templates/complaint.txt.j2")),
    ("product", include_str!("templates/product.txt.j2")),
    ("address_change", include_str!("templates/address_change.txt.j2")),
    ("cancellation", include_str!("templates/cancellation.txt.j2")),
    ("payment", include_str!("templates/payment.txt.j2")),
    ("account", include_str!("templates/account.txt.j2")),
    ("other", include_str!("templates/other.txt.j2")),
];

const SUFFIX: &str = ".txt.j2";

/// What a template sees (see the module doc).
#[derive(Debug, Clone, Serialize)]
pub struct TemplateContext {
    pub greeting: String,
    pub first_name: Option<String>,
    pub category: String,
    pub customer_language: Option<String>,
    pub language_note: Option<String>,
    pub order_ids: Vec<String>,
    pub order_ref: String,
    pub orders: Vec<OrderFacts>,
    pub order_facts: Vec<String>,
    pub identity_note: Option<String>,
    pub answer: Option<String>,
    pub has_policy_source: bool,
    pub questions: Vec<String>,
    pub missing_info: Vec<String>,
    pub sign_off: String,
    pub team_name: String,
}

pub struct Templates {
    env: Environment<'static>,
    /// Names of templates that came from the team's folder.
    overridden: Vec<String>,
}

impl Templates {
    /// The built-in templates, with the `*.txt.j2` files of `dir` (if any) on top.
    pub fn load(dir: Option<&Path>) -> Result<Templates, ConfigError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        for (name, source) in BUILT_IN {
            env.add_template(name, source)
                .map_err(|e| ConfigError::new(format!("built-in draft template {name}: {e}")))?;
        }
        let mut overridden = Vec::new();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                ConfigError::with_hint(
                    format!("cannot read the templates folder {}: {e}", dir.display()),
                    "fix `templates_dir` in [draft], or remove it to use the built-in templates",
                )
            })?;
            let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            files.sort();
            for path in files {
                let Some(file) = path.file_name().and_then(|f| f.to_str()) else { continue };
                let Some(name) = file.strip_suffix(SUFFIX) else { continue };
                let source = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::new(format!("cannot read template {}: {e}", path.display())))?;
                env.add_template_owned(name.to_string(), source)
                    .map_err(|e| ConfigError::new(format!("template {}: {e}", path.display())))?;
                overridden.push(name.to_string());
            }
        }
        Ok(Templates { env, overridden })
    }

    /// The template used for `category`.
    pub fn name_for<'a>(&self, category: &'a str) -> &'a str {
        if self.env.get_template(category).is_ok() { category } else { "other" }
    }

    pub fn is_overridden(&self, name: &str) -> bool {
        self.overridden.iter().any(|n| n == name)
    }

    /// Renders the template of `category` and tidies the whitespace.
    pub fn render(&self, category: &str, ctx: &TemplateContext) -> Result<String> {
        let name = self.name_for(category);
        let template = self.env.get_template(name)?;
        let text = template.render(ctx).map_err(|e| {
            let origin = if self.is_overridden(name) { "team template" } else { "built-in template" };
            anyhow::anyhow!("{origin} {name}{SUFFIX}: {e}")
        })?;
        Ok(tidy(&text))
    }
}

/// Trailing spaces removed, at most one blank line in a row, no blank lines at the ends.
pub fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// "order NW-1", "orders NW-1 and NW-2", "orders NW-1, NW-2 and NW-3", or "your order".
pub fn order_ref(ids: &[String]) -> String {
    match ids {
        [] => "your order".to_string(),
        [one] => format!("order {one}"),
        [init @ .., last] => format!("orders {} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TemplateContext {
        TemplateContext {
            greeting: "Hello Emma,".into(),
            first_name: Some("Emma".into()),
            category: "shipping".into(),
            customer_language: None,
            language_note: None,
            order_ids: vec!["NW-1".into()],
            order_ref: order_ref(&["NW-1".into()]),
            orders: vec![],
            order_facts: vec![],
            identity_note: None,
            answer: Some("Orders leave our warehouse within 1-2 business days.".into()),
            has_policy_source: true,
            questions: vec![],
            missing_info: vec![],
            sign_off: "Best regards,\nThe Team".into(),
            team_name: "Team".into(),
        }
    }

    #[test]
    fn every_built_in_template_renders_every_shape() {
        let t = Templates::load(None).unwrap();
        for (name, _) in BUILT_IN {
            for with_questions in [false, true] {
                for with_answer in [false, true] {
                    let mut c = ctx();
                    c.category = name.to_string();
                    if with_questions {
                        c.questions = vec!["your order number".into()];
                    }
                    if !with_answer {
                        c.answer = None;
                    }
                    c.language_note = Some("(note)".into());
                    let body = t.render(name, &c).unwrap();
                    assert!(body.starts_with("Hello Emma,\n\n(note)\n\n"), "{name}: {body}");
                    assert!(body.ends_with("Best regards,\nThe Team"), "{name}: {body}");
                    assert!(!body.contains("\n\n\n"), "{name}: {body}");
                    assert_eq!(body.contains("- your order number"), with_questions, "{name}: {body}");
                }
            }
        }
    }

    #[test]
    fn a_shipping_draft_reads_naturally() {
        let t = Templates::load(None).unwrap();
        let mut c = ctx();
        c.order_facts = vec!["Order NW-1 has been shipped with DHL.".into()];
        let body = t.render("shipping", &c).unwrap();
        assert_eq!(
            body,
            "Hello Emma,\n\nThank you for your message about order NW-1.\n\nOrder NW-1 has been shipped with DHL.\n\n\
             Orders leave our warehouse within 1-2 business days.\n\nBest regards,\nThe Team"
        );
    }

    #[test]
    fn team_templates_override_and_add_categories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("shipping.txt.j2"), "Hi! {{ order_ref }}\n\n\n{{ sign_off }}").unwrap();
        std::fs::write(dir.path().join("wholesale.txt.j2"), "B2B {{ greeting }}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(t.render("shipping", &ctx()).unwrap(), "Hi! order NW-1\n\nBest regards,\nThe Team");
        assert_eq!(t.render("wholesale", &ctx()).unwrap(), "B2B Hello Emma,");
        assert_eq!(t.name_for("unknown_category"), "other");
    }

    #[test]
    fn template_mistakes_are_reported_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("shipping.txt.j2"), "{% if %}").unwrap();
        let err = Templates::load(Some(dir.path())).err().unwrap();
        assert!(err.message.contains("shipping.txt.j2"), "{}", err.message);
        std::fs::write(dir.path().join("shipping.txt.j2"), "{{ ordre_ref }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let err = t.render("shipping", &ctx()).unwrap_err().to_string();
        assert!(err.contains("team template shipping.txt.j2"), "{err}");
        assert!(Templates::load(Some(&dir.path().join("missing"))).is_err());
    }

    #[test]
    fn order_refs() {
        assert_eq!(order_ref(&[]), "your order");
        assert_eq!(order_ref(&["A".into(), "B".into(), "C".into()]), "orders A, B and C");
    }
}
