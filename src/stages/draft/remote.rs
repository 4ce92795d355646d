//! `ChatModel` over the OpenAI-compatible client (`crate::model`), for the draft stage's
//! model backend. Drafting is synchronous (on the drafting threads of `pool`), so each call
//! blocks on the client's future; the client's retries (429 with Retry-After, 5xx) apply as
//! for classify.

use anyhow::{Result, anyhow};

use super::model::{ChatMessage, ChatModel};
use crate::model::client::Client;
use crate::model::wire::{ChatRequest, Message};

pub struct RemoteModel {
    client: Client,
    model: String,
    runtime: tokio::runtime::Handle,
}

impl RemoteModel {
    /// Must be created inside the tokio runtime the command runs on.
    pub fn new(client: Client, model: String) -> Result<RemoteModel> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| anyhow!("no async runtime: {e}"))?;
        Ok(RemoteModel { client, model, runtime })
    }
}

impl ChatModel for RemoteModel {
    fn model_name(&self) -> String {
        self.model.clone()
    }

    fn complete(&self, messages: &[ChatMessage]) -> Result<String> {
        let req = ChatRequest {
            model: self.model.clone(),
            messages: messages.iter().map(|m| Message { role: m.role.to_string(), content: m.content.clone() }).collect(),
            temperature: 0.0,
            response_format: Some(serde_json::json!({"type": "json_object"})),
            max_tokens: Some(800),
        };
        let call = self.client.chat(&req, |text| Ok::<String, String>(text.to_string()));
        // A drafting thread of our own just waits; on one of the runtime's threads,
        // block_in_place first hands its other tasks to the other threads.
        let outcome = if tokio::runtime::Handle::try_current().is_ok() {
            tokio::task::block_in_place(|| self.runtime.block_on(call))
        } else {
            self.runtime.block_on(call)
        };
        match outcome.result {
            Ok((text, _usage)) => Ok(text),
            Err(e) => Err(anyhow!("model call failed: {e}")),
        }
    }
}
