//! Unit tests of model names and licence reading.

use super::licence::license_from_info;
use super::*;

#[test]
fn specs_parse() {
    assert_eq!(ModelSpec::parse("default").unwrap(), ModelSpec::Default);
    assert_eq!(
        ModelSpec::parse("ckiplab/bert-tiny-chinese-ws").unwrap(),
        ModelSpec::Hub {
            repo: "ckiplab/bert-tiny-chinese-ws".into(),
            revision: "main".into()
        }
    );
    assert_eq!(
        ModelSpec::parse("a/b@v1.0").unwrap(),
        ModelSpec::Hub {
            repo: "a/b".into(),
            revision: "v1.0".into()
        }
    );
    assert_eq!(
        ModelSpec::parse("./nope").unwrap(),
        ModelSpec::Dir("./nope".into())
    );
    assert!(matches!(
        ModelSpec::parse("/no/such/dir").unwrap(),
        ModelSpec::Dir(_)
    ));
    for bad in [
        "", "nope", "a/b/c", "a//b", "a/b@", "-a/b", "a/b c", "a--x/b",
    ] {
        let e = ModelSpec::parse(bad).unwrap_err().to_string();
        assert!(e.contains("hub id") || e.contains("empty"), "{bad}: {e}");
    }
    assert_eq!(ModelSpec::parse("a/b@dev").unwrap().to_string(), "a/b@dev");
    assert_eq!(ModelSpec::parse("a/b").unwrap().to_string(), "a/b");
}

#[test]
fn licences_are_read() {
    let card = "---\nlanguage:\n- zh\nlicense: gpl-3.0\ntags:\n- pytorch\n---\n# x\n";
    assert_eq!(license_from_card(card).as_deref(), Some("gpl-3.0"));
    let card = "---\nlicense:\n  - mit\n  - apache-2.0\n---\n";
    assert_eq!(license_from_card(card).as_deref(), Some("mit, apache-2.0"));
    let card = "---\nlicense: other\nlicense_name: my-licence\n---\n";
    assert_eq!(
        license_from_card(card).as_deref(),
        Some("other (my-licence)")
    );
    assert_eq!(license_from_card("# no front matter\nlicense: mit\n"), None);
    let info = serde_json::json!({"cardData": {"license": "gpl-3.0"}, "tags": ["license:mit"]});
    assert_eq!(license_from_info(&info).as_deref(), Some("gpl-3.0"));
    let info = serde_json::json!({"tags": ["bert", "license:apache-2.0"]});
    assert_eq!(license_from_info(&info).as_deref(), Some("apache-2.0"));
    assert_eq!(license_from_info(&serde_json::json!({})), None);
}
