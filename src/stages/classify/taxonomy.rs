//! The categories a message can get: the default taxonomy (SPEC section 2) or the team's own
//! from `[classify] categories`.

use crate::config::CategoryDef;
use crate::error::ConfigError;

/// The fallback category; always part of a taxonomy.
pub const OTHER: &str = "other";

/// The default categories and what they mean (used in the LLM prompt too).
pub const DEFAULT: &[(&str, &str)] = &[
    ("shipping", "where is my order, tracking, delivery delay, lost parcel, delivery options and times"),
    ("refund", "asks for money back, refund status or refund policy"),
    ("return", "wants to return or exchange an item (wrong size, changed mind), return label"),
    ("complaint", "damaged, defective or wrong item, bad service, dissatisfaction"),
    ("product", "question about a product before or after buying: availability, size, material, compatibility, how to order"),
    ("address_change", "change or correct the delivery address"),
    ("cancellation", "cancel an order, cancellation fee"),
    ("payment", "failed or declined payment, charged twice, payment methods, invoice or receipt"),
    ("account", "login, password, registration, profile, deleting or switching an account"),
    (OTHER, "anything else: contact requests, feedback, newsletter, unclear messages"),
];

#[derive(Debug, Clone)]
pub struct Category {
    pub name: String,
    pub description: String,
    /// Normalized keywords from the config (custom taxonomies).
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub categories: Vec<Category>,
    /// True when the team defined its own list.
    pub custom: bool,
}

impl Taxonomy {
    pub fn default_categories() -> Taxonomy {
        Taxonomy {
            categories: DEFAULT
                .iter()
                .map(|(n, d)| Category { name: n.to_string(), description: d.to_string(), keywords: Vec::new() })
                .collect(),
            custom: false,
        }
    }

    /// The team's taxonomy from config, or the default one. `other` is added when missing.
    pub fn from_config(defs: &[CategoryDef]) -> Result<Taxonomy, ConfigError> {
        if defs.is_empty() {
            return Ok(Taxonomy::default_categories());
        }
        let mut categories: Vec<Category> = Vec::new();
        for d in defs {
            let name = d.name.trim();
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !valid {
                return Err(ConfigError::with_hint(
                    format!("[classify] category name {:?} is not valid", d.name),
                    "use lowercase letters, digits, '_' or '-', e.g. \"warranty_claim\"",
                ));
            }
            if categories.iter().any(|c| c.name == name) {
                return Err(ConfigError::new(format!("[classify] category \"{name}\" is defined twice")));
            }
            let description = if d.description.is_empty() {
                DEFAULT.iter().find(|(n, _)| *n == name).map(|(_, d)| d.to_string()).unwrap_or_default()
            } else {
                d.description.clone()
            };
            let keywords = d
                .keywords
                .iter()
                .map(|k| {
                    let mut s = String::new();
                    super::text::normalize_into(k, usize::MAX, &mut s);
                    s.trim().to_string()
                })
                .filter(|k| !k.is_empty())
                .collect();
            categories.push(Category { name: name.to_string(), description, keywords });
        }
        if !categories.iter().any(|c| c.name == OTHER) {
            categories.push(Category { name: OTHER.into(), description: DEFAULT[9].1.into(), keywords: Vec::new() });
        }
        Ok(Taxonomy { categories, custom: true })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.categories.iter().any(|c| c.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.categories.iter().map(|c| c.name.as_str()).collect()
    }

    /// The custom category whose keywords occur most often in normalized text `norm`.
    pub fn keyword_match(&self, norm: &str) -> Option<(&str, &str)> {
        let mut best: Option<(&str, &str, usize)> = None;
        for c in &self.categories {
            for k in &c.keywords {
                let needle = format!(" {k}");
                let hits = norm.matches(&needle).count();
                if hits > 0 && best.is_none_or(|(_, _, h)| hits > h) {
                    best = Some((c.name.as_str(), k.as_str(), hits));
                }
            }
        }
        best.map(|(c, k, _)| (c, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, kw: &[&str]) -> CategoryDef {
        CategoryDef { name: name.into(), description: String::new(), keywords: kw.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn default_has_ten_categories_with_other() {
        let t = Taxonomy::from_config(&[]).unwrap();
        assert_eq!(t.categories.len(), 10);
        assert!(t.contains("address_change") && t.contains(OTHER) && !t.custom);
    }

    #[test]
    fn custom_taxonomy_gets_other_and_keywords() {
        let t = Taxonomy::from_config(&[def("warranty", &["Garantie", "warranty claim"]), def("refund", &[])]).unwrap();
        assert_eq!(t.names(), ["warranty", "refund", "other"]);
        assert_eq!(t.categories[1].description, DEFAULT[1].1);
        assert_eq!(t.keyword_match(" my warranty claim for the kettle "), Some(("warranty", "warranty claim")));
        assert_eq!(t.keyword_match(" nothing here "), None);
    }

    #[test]
    fn bad_names_and_duplicates_are_config_errors() {
        assert!(Taxonomy::from_config(&[def("Not Valid", &[])]).is_err());
        assert!(Taxonomy::from_config(&[def("a", &[]), def("a", &[])]).is_err());
    }
}
