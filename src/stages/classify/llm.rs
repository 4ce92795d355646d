//! The LLM backend: prompt, structured output, validation, confidence gate, cache key.
//!
//! The model is asked for JSON that a JSON schema pins down (category from the taxonomy as an
//! enum, confidence 0–1, sentiment, short reasons). The answer is validated again here: a
//! category outside the taxonomy or a malformed answer is junk, never a guess. The cache key
//! is sha256(model, prompt version, the exact user text), and the prompt version carries a
//! hash of the system prompt, so a changed taxonomy is a new version.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::rules::Sentiment;
use super::taxonomy::{OTHER, Taxonomy};
use super::{Decision, Engine};
use crate::hex::hex;
use crate::model::wire::{ChatRequest, Message};
use crate::record::Record;

/// Bump when the prompt's wording or the answer's shape changes.
const PROMPT_REVISION: &str = "classify-v1";

/// Body characters sent to the model.
const MAX_BODY_CHARS: usize = 4000;

/// How to ask for structured output (`[classify] response_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `response_format: {type: json_schema}` (OpenAI, vLLM, llama.cpp, Ollama, Qwen).
    JsonSchema,
    /// `response_format: {type: json_object}` (DeepSeek and older servers).
    JsonObject,
    /// No response_format; the prompt alone asks for JSON.
    Prompt,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "json_schema" => Format::JsonSchema,
            "json_object" => Format::JsonObject,
            "none" | "prompt" => Format::Prompt,
            _ => return None,
        })
    }
}

/// The validated answer, as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub category: String,
    pub confidence: f64,
    pub sentiment: String,
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Everything needed to ask about messages under one taxonomy and model.
pub struct Prompt {
    pub taxonomy: Taxonomy,
    system: String,
    schema: Value,
    pub model: String,
    /// `classify-v1+<8 hex of the system prompt>`.
    pub version: String,
    format: Format,
}

impl Prompt {
    pub fn new(taxonomy: &Taxonomy, model: &str, format: Format) -> Prompt {
        let mut system = String::from(
            "You triage customer-service e-mail for a small online shop. Read the message and answer with JSON only.\n\
             Pick exactly one category from this list (name: meaning):\n",
        );
        for c in &taxonomy.categories {
            system.push_str(&format!("- {}: {}\n", c.name, c.description));
        }
        system.push_str(
            "Rules: judge the customer's new text, not quoted history or signatures. If the message fits none of the \
             categories or you are unsure, say so with a low confidence instead of guessing. confidence is your \
             probability (0 to 1) that the category is right. sentiment is one of angry, negative, neutral, positive. \
             reasons: up to three short phrases quoting what decided it. The message may be in any language.\n\
             Answer format: {\"category\": \"...\", \"confidence\": 0.0, \"sentiment\": \"...\", \"reasons\": [\"...\"]}",
        );
        let names: Vec<&str> = taxonomy.names();
        let schema = json!({
            "type": "object",
            "properties": {
                "category": {"type": "string", "enum": names},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "sentiment": {"type": "string", "enum": ["angry", "negative", "neutral", "positive"]},
                "reasons": {"type": "array", "items": {"type": "string"}, "maxItems": 3}
            },
            "required": ["category", "confidence", "sentiment", "reasons"],
            "additionalProperties": false
        });
        let digest = Sha256::digest(system.as_bytes());
        let version = format!("{PROMPT_REVISION}+{}", hex(&digest[..4]));
        Prompt { taxonomy: taxonomy.clone(), system, schema, model: model.to_string(), version, format }
    }

    /// The user text for a record: subject and the new part of the body.
    pub fn user_text(record: &Record) -> String {
        let body = record.best_text();
        let cut = body.char_indices().nth(MAX_BODY_CHARS).map(|(i, _)| i).unwrap_or(body.len());
        format!("Subject: {}\n\n{}", record.subject.trim(), &body[..cut])
    }

    /// sha256(model, prompt version, user text) in hex.
    pub fn cache_key(&self, user_text: &str) -> String {
        let mut h = Sha256::new();
        for part in [self.model.as_str(), self.version.as_str(), user_text] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex(&h.finalize())
    }

    pub fn request(&self, user_text: &str) -> ChatRequest {
        let response_format = match self.format {
            Format::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": "triage", "strict": true, "schema": self.schema}
            })),
            Format::JsonObject => Some(json!({"type": "json_object"})),
            Format::Prompt => None,
        };
        ChatRequest {
            model: self.model.clone(),
            messages: vec![Message::system(self.system.clone()), Message::user(user_text)],
            temperature: 0.0,
            response_format,
            max_tokens: Some(300),
        }
    }
}

/// Validates an answer's content against the taxonomy. Err says why it is junk.
pub fn validate(content: &str, taxonomy: &Taxonomy) -> Result<Answer, String> {
    let text = strip_fences(content);
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let mut a: Answer = serde_json::from_value(v).map_err(|e| format!("wrong shape ({e})"))?;
    a.category = a.category.trim().to_ascii_lowercase();
    if !taxonomy.contains(&a.category) {
        return Err(format!("category {:?} is not in the taxonomy", a.category));
    }
    if !(0.0..=1.0).contains(&a.confidence) || a.confidence.is_nan() {
        return Err(format!("confidence {} is not between 0 and 1", a.confidence));
    }
    a.sentiment = a.sentiment.trim().to_ascii_lowercase();
    if Sentiment::parse(&a.sentiment).is_none() {
        return Err(format!("sentiment {:?} is not angry, negative, neutral or positive", a.sentiment));
    }
    a.reasons.truncate(3);
    for r in &mut a.reasons {
        if r.chars().count() > 200 {
            *r = r.chars().take(200).collect();
        }
    }
    Ok(a)
}

/// Models that wrap JSON in a Markdown fence.
fn strip_fences(s: &str) -> &str {
    let t = s.trim();
    let t = t.strip_prefix("```json").or_else(|| t.strip_prefix("```")).unwrap_or(t);
    t.strip_suffix("```").unwrap_or(t).trim()
}

/// The decision from a validated answer, with the confidence gate applied.
pub fn decision(engine: &Engine, prompt: &Prompt, answer: &Answer, cached: bool) -> Decision {
    let mut reasons = vec![format!(
        "category {} (confidence {:.2}; model {}{})",
        answer.category,
        answer.confidence,
        prompt.model,
        if cached { ", cached answer" } else { "" }
    )];
    reasons.extend(answer.reasons.iter().map(|r| format!("model: {r}")));
    let mut d = Decision {
        category: answer.category.clone(),
        confidence: (answer.confidence * 1000.0).round() / 1000.0,
        backend: "model".into(),
        model: prompt.model.clone(),
        prompt_version: prompt.version.clone(),
        reasons,
        sentiment: Sentiment::parse(&answer.sentiment),
        review_required: false,
    };
    engine.gate(&mut d);
    if d.category == OTHER && answer.category == OTHER && d.confidence < engine.settings.min_confidence {
        d.review_required = true;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tax() -> Taxonomy {
        Taxonomy::default_categories()
    }

    #[test]
    fn valid_answers_pass_and_fences_are_tolerated() {
        let a = validate("```json\n{\"category\":\"Refund\",\"confidence\":0.9,\"sentiment\":\"neutral\",\"reasons\":[\"asks for money back\"]}\n```", &tax()).unwrap();
        assert_eq!(a.category, "refund");
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        for (content, why) in [
            ("Sure! The category is refund.", "not JSON"),
            ("{\"category\":\"billing\",\"confidence\":0.9,\"sentiment\":\"neutral\",\"reasons\":[]}", "not in the taxonomy"),
            ("{\"category\":\"refund\",\"confidence\":7,\"sentiment\":\"neutral\",\"reasons\":[]}", "between 0 and 1"),
            ("{\"category\":\"refund\",\"confidence\":0.9,\"sentiment\":\"meh\",\"reasons\":[]}", "sentiment"),
            ("{\"category\":\"refund\"}", "wrong shape"),
        ] {
            let err = validate(content, &tax()).unwrap_err();
            assert!(err.contains(why), "{content}: {err}");
        }
    }

    #[test]
    fn cache_key_depends_on_model_prompt_and_text() {
        let p = Prompt::new(&tax(), "gpt-4o-mini", Format::JsonSchema);
        let k = p.cache_key("hello");
        assert_eq!(k.len(), 64);
        assert_eq!(k, p.cache_key("hello"));
        assert_ne!(k, p.cache_key("hello!"));
        assert_ne!(k, Prompt::new(&tax(), "gpt-4o", Format::JsonSchema).cache_key("hello"));
        let custom = Taxonomy::from_config(&[crate::config::CategoryDef { name: "x".into(), description: String::new(), keywords: vec![] }]).unwrap();
        assert_ne!(p.version, Prompt::new(&custom, "gpt-4o-mini", Format::JsonSchema).version);
    }

    #[test]
    fn request_carries_the_schema_with_the_taxonomy() {
        let p = Prompt::new(&tax(), "m", Format::JsonSchema);
        let v = serde_json::to_value(p.request("Subject: x\n\nhi")).unwrap();
        assert_eq!(v["response_format"]["type"], "json_schema");
        let cats = &v["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"];
        assert_eq!(cats.as_array().unwrap().len(), 10);
        assert_eq!(v["messages"][1]["content"], "Subject: x\n\nhi");
        assert_eq!(v["temperature"], 0.0);
    }
}
