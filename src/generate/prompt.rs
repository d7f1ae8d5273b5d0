//! Prompt templates: `prompts/*.md` compiled in, overridable from `<data dir>/prompts/`.
//!
//! A template is plain text with `{name}` placeholders; `{{` and `}}` are literal braces.
//! Rendering fails on a placeholder without a value, so a typo in an edited prompt is an error
//! that names the file, not a silently odd prompt.

use std::path::{Path, PathBuf};

/// The built-in templates, by file name.
const BUILTIN: &[(&str, &str)] = &[
    ("examples.md", include_str!("../../prompts/examples.md")),
    (
        "examples-base.md",
        include_str!("../../prompts/examples-base.md"),
    ),
];

/// What is wrong with a template.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum PromptError {
    /// No such template, built in or in the data dir.
    #[error("no prompt template named {0:?} (built in: examples.md, examples-base.md)")]
    NotFound(String),
    /// The file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A placeholder in the template has no value.
    #[error("{template}: placeholder {{{name}}} has no value (known here: {known})")]
    Missing {
        /// Where the template came from.
        template: String,
        /// The placeholder.
        name: String,
        /// The names that have values.
        known: String,
    },
    /// The template lacks a placeholder it must use.
    #[error("{template}: the template must use {{{name}}}")]
    Required {
        /// Where the template came from.
        template: String,
        /// The placeholder.
        name: String,
    },
    /// A `{` without its `}`.
    #[error("{template}: unclosed '{{' at byte {at} (write '{{{{' for a literal brace)")]
    Unclosed {
        /// Where the template came from.
        template: String,
        /// Byte offset.
        at: usize,
    },
}

/// A prompt template and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// File name or path, for messages.
    pub origin: String,
    /// The text.
    pub text: String,
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

impl Template {
    /// A template from text.
    pub fn new(origin: &str, text: &str) -> Self {
        Self {
            origin: origin.to_string(),
            text: text.to_string(),
        }
    }

    /// The template `name`: `<data_dir>/prompts/<name>` if that file exists (users edit prompts
    /// without recompiling), else the built-in one.
    pub fn load(name: &str, data_dir: Option<&Path>) -> Result<Self, PromptError> {
        if let Some(dir) = data_dir {
            let path = dir.join("prompts").join(name);
            if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|e| PromptError::Io {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                return Ok(Self::new(&path.display().to_string(), &text));
            }
        }
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| Self::new(&format!("built-in prompts/{n}"), t))
            .ok_or_else(|| PromptError::NotFound(name.to_string()))
    }

    fn pieces(&self) -> Result<Vec<Piece<'_>>, PromptError> {
        let s = self.text.as_str();
        let mut out = Vec::new();
        let mut i = 0;
        let mut lit = 0;
        let b = s.as_bytes();
        while i < b.len() {
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {
                    out.push(Piece::Text(&s[lit..i + 1]));
                    i += 2;
                    lit = i;
                }
                b'}' if b.get(i + 1) == Some(&b'}') => {
                    out.push(Piece::Text(&s[lit..i + 1]));
                    i += 2;
                    lit = i;
                }
                b'{' => {
                    let end = s[i + 1..].find(['}', '{', '\n']).map(|e| i + 1 + e);
                    match end {
                        Some(e) if b[e] == b'}' => {
                            out.push(Piece::Text(&s[lit..i]));
                            out.push(Piece::Var(s[i + 1..e].trim()));
                            i = e + 1;
                            lit = i;
                        }
                        _ => {
                            return Err(PromptError::Unclosed {
                                template: self.origin.clone(),
                                at: i,
                            })
                        }
                    }
                }
                _ => i += 1,
            }
        }
        out.push(Piece::Text(&s[lit..]));
        Ok(out)
    }

    /// The placeholders the template uses, in order of first use.
    pub fn placeholders(&self) -> Result<Vec<String>, PromptError> {
        let mut v: Vec<String> = Vec::new();
        for p in self.pieces()? {
            if let Piece::Var(n) = p {
                if !v.iter().any(|x| x == n) {
                    v.push(n.to_string());
                }
            }
        }
        Ok(v)
    }

    /// Fails unless the template uses every placeholder in `names`.
    pub fn require(&self, names: &[&str]) -> Result<(), PromptError> {
        let used = self.placeholders()?;
        for n in names {
            if !used.iter().any(|u| u == n) {
                return Err(PromptError::Required {
                    template: self.origin.clone(),
                    name: n.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Fills the placeholders from `vars`; a placeholder without a value is an error.
    pub fn render(&self, vars: &[(&str, &str)]) -> Result<String, PromptError> {
        let mut out = String::with_capacity(self.text.len());
        for p in self.pieces()? {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(n) => match vars.iter().find(|(k, _)| *k == n) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        return Err(PromptError::Missing {
                            template: self.origin.clone(),
                            name: n.to_string(),
                            known: vars.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "),
                        })
                    }
                },
            }
        }
        Ok(out)
    }
}

/// Qwen's ChatML: an optional system turn, the user turn, and the opening of the assistant's.
pub fn chat_ml(system: Option<&str>, user: &str) -> String {
    let mut s = String::new();
    if let Some(sys) = system {
        s.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
    }
    s.push_str(&format!(
        "<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    ));
    s
}
