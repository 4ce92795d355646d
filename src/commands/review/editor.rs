//! Editing a draft in the user's `$VISUAL` / `$EDITOR`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::env;

/// The editor command line: $VISUAL, then $EDITOR, then `vi`. It may carry arguments
/// (`code --wait`), so it runs through `sh`.
fn editor_command() -> String {
    for var in ["VISUAL", env::EDITOR] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v;
        }
    }
    "vi".into()
}

/// A private temp file that is removed when dropped.
struct TempText(PathBuf);

impl Drop for TempText {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Opens `text` in the editor and returns what the user saved.
pub fn edit_text(text: &str, label: &str) -> Result<String> {
    let safe: String = label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    let path = std::env::temp_dir().join(format!(
        "mailroom-{safe}-{}.txt",
        crate::stages::review::links::random_hex(6)
    ));
    let file = TempText(path);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file.0)
            .with_context(|| format!("cannot create {}", file.0.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
        f.write_all(text.as_bytes())?;
    }
    let editor = editor_command();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&file.0)
        .status()
        .with_context(|| format!("cannot start the editor `{editor}`"))?;
    if !status.success() {
        bail!("the editor `{editor}` exited with {status}; the draft was not changed");
    }
    std::fs::read_to_string(&file.0).with_context(|| format!("cannot read back {}", file.0.display()))
}
