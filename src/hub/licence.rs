//! The licence of a hub model: from the hub's repo info or from the model card's front matter.

/// The licence in the hub's repo info (`cardData.license`, else a `license:` tag).
pub(super) fn license_from_info(info: &serde_json::Value) -> Option<String> {
    let card = &info["cardData"];
    let from_card = match &card["license"] {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Array(a) => {
            let v: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
            (!v.is_empty()).then(|| v.join(", "))
        }
        _ => None,
    };
    let lic = from_card.or_else(|| {
        info["tags"].as_array().and_then(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str())
                .find_map(|t| t.strip_prefix("license:").map(str::to_string))
        })
    })?;
    Some(match card["license_name"].as_str() {
        Some(name) if lic == "other" => format!("other ({name})"),
        _ => lic,
    })
}

/// The `license:` of a model card's YAML front matter (a value or a list).
pub fn license_from_card(text: &str) -> Option<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let front: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    let unquote = |s: &str| s.trim().trim_matches(['"', '\'']).trim().to_string();
    let mut license = None;
    let mut name = None;
    for (i, line) in front.iter().enumerate() {
        if let Some(v) = line.strip_prefix("license:") {
            let v = unquote(v);
            license = if v.is_empty() {
                let items: Vec<String> = front[i + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .take_while(|l| l.starts_with("- "))
                    .map(|l| unquote(&l[2..]))
                    .collect();
                (!items.is_empty()).then(|| items.join(", "))
            } else if v.starts_with('[') {
                Some(
                    v.trim_matches(['[', ']'])
                        .split(',')
                        .map(unquote)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            } else {
                Some(v)
            };
        } else if let Some(v) = line.strip_prefix("license_name:") {
            name = Some(unquote(v));
        }
    }
    let lic = license.filter(|l| !l.is_empty())?;
    Some(match name {
        Some(n) if lic == "other" && !n.is_empty() => format!("other ({n})"),
        _ => lic,
    })
}
