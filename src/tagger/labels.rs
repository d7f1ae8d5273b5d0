//! Label sets of a segmenter: [`Tag`] and [`LabelScheme`] (BMES/BIES or B/I, from `id2label`).

/// The tag of one character position in a segmentation label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// First character of a multi-character word (B/I: first of any word).
    Begin,
    /// Inside a word (M of BMES, I of B/I).
    Middle,
    /// Last character of a multi-character word (BMES only).
    End,
    /// A one-character word (BMES only).
    Single,
}

impl Tag {
    /// Does a word start at this position?
    pub fn starts_word(self) -> bool {
        matches!(self, Tag::Begin | Tag::Single)
    }
}

/// How label ids map to tags: BMES (BIES) or B/I.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelScheme {
    tags: Vec<Tag>,
    names: Vec<String>,
}

impl LabelScheme {
    /// The default BMES scheme: ids 0..4 = B, M, E, S.
    pub fn bmes() -> Self {
        Self::from_names(&["B", "M", "E", "S"].map(String::from)).expect("valid")
    }

    /// The B/I scheme of ckiplab's segmenters: ids 0..2 = B, I.
    pub fn bi() -> Self {
        Self::from_names(&["B", "I"].map(String::from)).expect("valid")
    }

    /// Builds a scheme from label names in id order. Accepts BMES/BIES (any order, optional
    /// `-WORD`/`S-` style prefixes are not used by segmenters and are refused) or B/I.
    pub fn from_names(names: &[String]) -> std::result::Result<Self, String> {
        let norm: Vec<String> = names
            .iter()
            .map(|n| n.trim().to_ascii_uppercase())
            .collect();
        let mut tags = Vec::new();
        let is_bmes = norm.len() == 4;
        let is_bi = norm.len() == 2;
        for n in &norm {
            let t = match (n.as_str(), is_bmes, is_bi) {
                ("B", _, _) => Tag::Begin,
                ("M" | "I", true, _) => Tag::Middle,
                ("I", _, true) => Tag::Middle,
                ("E", true, _) => Tag::End,
                ("S", true, _) => Tag::Single,
                _ => {
                    return Err(format!(
                        "label set {} is not a word-segmentation label set; \
                         fenci supports BMES/BIES (4 labels) and B/I (2 labels)",
                        shown(names)
                    ))
                }
            };
            if tags.contains(&t) {
                return Err(format!("label set {} repeats a label", shown(names)));
            }
            tags.push(t);
        }
        if tags.is_empty() || (is_bmes && tags.len() != 4) || (is_bi && tags.len() != 2) {
            return Err(format!(
                "label set {} is not a word-segmentation label set; \
                 fenci supports BMES/BIES (4 labels) and B/I (2 labels)",
                shown(names)
            ));
        }
        Ok(Self {
            tags,
            names: names.to_vec(),
        })
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Always false: a scheme has 2 or 4 labels.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Is this the two-label B/I scheme?
    pub fn is_bi(&self) -> bool {
        self.tags.len() == 2
    }

    /// The tag of label id `i`.
    pub fn tag(&self, i: usize) -> Tag {
        self.tags[i]
    }

    /// The label id of a tag (B/I maps End→Begin-less Middle, Single→Begin).
    pub fn id(&self, t: Tag) -> usize {
        let t = if self.is_bi() {
            match t {
                Tag::Begin | Tag::Single => Tag::Begin,
                Tag::Middle | Tag::End => Tag::Middle,
            }
        } else {
            t
        };
        self.tags
            .iter()
            .position(|&x| x == t)
            .expect("tag in scheme")
    }

    /// Label names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Is `b` allowed to follow `a`?
    pub fn allowed(&self, a: Tag, b: Tag) -> bool {
        if self.is_bi() {
            return true;
        }
        match a {
            Tag::Begin | Tag::Middle => matches!(b, Tag::Middle | Tag::End),
            Tag::End | Tag::Single => matches!(b, Tag::Begin | Tag::Single),
        }
    }

    /// May a sentence start with `t`?
    pub fn allowed_start(&self, t: Tag) -> bool {
        t.starts_word()
    }

    /// May a sentence end with `t`?
    pub fn allowed_end(&self, t: Tag) -> bool {
        self.is_bi() || matches!(t, Tag::End | Tag::Single)
    }

    /// Tags for a word of `n` units.
    pub fn word_tags(&self, n: usize) -> Vec<usize> {
        (0..n)
            .map(|i| {
                let t = match (i, n) {
                    (_, 1) => Tag::Single,
                    (0, _) => Tag::Begin,
                    (i, n) if i + 1 == n => Tag::End,
                    _ => Tag::Middle,
                };
                self.id(t)
            })
            .collect()
    }
}

/// A label set for an error message: whole when short, else its first labels and the count (a
/// model with 10,000 labels must not make a message of 89 KB).
fn shown(names: &[String]) -> String {
    const SHOW: usize = 8;
    if names.len() <= SHOW {
        format!("{names:?}")
    } else {
        format!("{:?} … ({} labels)", &names[..SHOW], names.len())
    }
}
