//! `route.json`: which sentences a fine-tuned model answers and which go back to the model it
//! started from (see [`crate::segment::route`]). Stored beside the weights of a version that
//! `/train` wrote; a model directory without it is used for every sentence.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The file name in a model directory.
pub const ROUTE_FILE: &str = "route.json";

/// The base a route can send sentences to: the model built into this fenci.
pub const BUILT_IN: &str = "default";

/// What a fine-tuned model knows of its own domain: the corrected sentences it was trained on,
/// the model that answers the others, and how far a sentence must lean toward the old domain
/// before it goes back there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSpec {
    /// Format version (1).
    pub format: u32,
    /// The model a sentence unlike the user's goes to: [`BUILT_IN`].
    pub base: String,
    /// A sentence goes to the base when its mean log-probability per character under the
    /// old-domain model exceeds that under the user's by more than `-margin` (negative: the
    /// user's model gets the benefit of the doubt).
    pub margin: f64,
    /// The sentences the model was fine-tuned on (the corrections, as written).
    pub domain: Vec<String>,
    /// Strings that at least two corrected sentences segment the same way, and none otherwise,
    /// against what the built-in model writes (`crate::segment::rules`); absent in versions
    /// older than stop 31.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// A string and the words the user's corrections give it (一个 → 一 个).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The string, as it appears in the text.
    pub text: String,
    /// Its words, which concatenate to `text`.
    pub words: Vec<String>,
    /// How many corrected sentences changed it so.
    pub times: usize,
}

impl RouteSpec {
    /// A route to the built-in model for a model fine-tuned on `domain`.
    pub fn built_in(margin: f64, domain: Vec<String>) -> Self {
        Self {
            format: 1,
            base: BUILT_IN.to_string(),
            margin,
            domain,
            rules: Vec::new(),
        }
    }

    /// An error about the `route.json` at `path` that says how to do without it.
    pub fn error(path: &Path, message: &str) -> ModelError {
        ModelError::BadConfig {
            path: path.to_path_buf(),
            message: format!("{message}; delete {ROUTE_FILE} to use this model for every sentence"),
        }
    }

    /// Parses `route.json`; the error names the file and says how to do without it.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ModelError> {
        let bad = |message: String| Self::error(path, &message);
        let spec: Self =
            serde_json::from_str(text).map_err(|e| bad(format!("unreadable ({e})")))?;
        if spec.format != 1 {
            return Err(bad(format!(
                "format {} is newer than this fenci reads (1)",
                spec.format
            )));
        }
        if spec.base != BUILT_IN {
            return Err(bad(format!(
                "its base is {:?}; only the built-in model ({BUILT_IN:?}) can be one",
                spec.base
            )));
        }
        if !spec.margin.is_finite() {
            return Err(bad("its margin is not a number".into()));
        }
        if let Some(r) = spec
            .rules
            .iter()
            .find(|r| r.words.iter().any(String::is_empty) || r.words.concat() != r.text)
        {
            return Err(bad(format!(
                "its rule for {:?} has words that do not make up the string",
                r.text
            )));
        }
        Ok(spec)
    }

    /// The JSON text of `route.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a route serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_it_cannot_use() {
        let p = Path::new("v1/route.json");
        let spec = RouteSpec::built_in(-1.0, vec!["房间很干净。".into()]);
        assert_eq!(RouteSpec::parse(&spec.to_json(), p).unwrap(), spec);
        // Rules round-trip; a route without them (older versions) reads as none.
        let mut ruled = spec.clone();
        ruled.rules.push(Rule {
            text: "一个".into(),
            words: vec!["一".into(), "个".into()],
            times: 3,
        });
        assert_eq!(RouteSpec::parse(&ruled.to_json(), p).unwrap(), ruled);
        assert!(!spec.to_json().contains("rules"));
        for bad in [
            "{",
            r#"{"format":2,"base":"default","margin":-1,"domain":[]}"#,
            r#"{"format":1,"base":"owner/name","margin":-1,"domain":[]}"#,
            r#"{"format":1,"base":"default","margin":-1,"domain":[],"rules":[{"text":"一个","words":["一","人"],"times":2}]}"#,
        ] {
            let e = RouteSpec::parse(bad, p).unwrap_err().to_string();
            assert!(e.contains("route.json"), "{e}");
        }
    }
}
