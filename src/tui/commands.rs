//! Slash commands: the table (name, arguments, one-line help, detail), parsing, Tab completion
//! and "did you mean" suggestions. Pure functions; the App decides what a command does.

/// What a slash command does: the App matches this exhaustively, so a command in the table
/// without a handler does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `/help [COMMAND]`
    Help,
    /// `/model [ID|VERSION]`
    Model,
    /// `/explain full|brief|off`
    Explain,
    /// `/demo`
    Demo,
    /// `/temp T`
    Temp,
    /// `/top-p P`
    TopP,
    /// `/seed N`
    Seed,
    /// `/save FILE`
    Save,
    /// `/clear`
    Clear,
    /// `/quit`
    Quit,
    /// `/fix WORD …`
    Fix,
    /// `/train`
    Train,
    /// `/undo`
    Undo,
    /// `/dict [add|rm WORD]`
    Dict,
    /// `/corrections`
    Corrections,
    /// `/edit`
    Edit,
    /// `/open FILE`
    Open,
    /// `/review`
    Review,
    /// `/doc [PAGE]`
    Doc,
    /// `/cancel`
    Cancel,
    /// `/examples WORD [N]`
    Examples,
    /// `/lm [ID]`
    Lm,
    /// `/tones on|off`
    Tones,
}

/// One slash command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Name without the slash.
    pub name: &'static str,
    /// What it does.
    pub cmd: Cmd,
    /// Argument synopsis.
    pub args: &'static str,
    /// One line for `/help`.
    pub summary: &'static str,
    /// Longer help for `/help NAME`.
    pub detail: &'static str,
    /// False for commands a later release brings.
    pub available: bool,
}

/// Every command, in the order `/help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        cmd: Cmd::Help,
        args: "[COMMAND]",
        summary: "list commands, or explain one",
        detail: "/help lists every command with one line each; /help CMD shows the details of CMD.",
        available: true,
    },
    CommandSpec {
        name: "model",
        cmd: Cmd::Model,
        args: "[ID|VERSION]",
        summary: "show or switch the model (hub id, directory, version)",
        detail: "Shows the active model and the versions trained on your corrections; /model ID \
                 loads a Hugging Face hub model (owner/name[@revision], downloaded with a \
                 progress gauge, Esc cancels) or a model directory; \
                 /model vN switches to a version, /model default to the built-in model.",
        available: true,
    },
    CommandSpec {
        name: "explain",
        cmd: Cmd::Explain,
        args: "full|brief|off",
        summary: "how much each turn explains",
        detail: "full: words with pinyin, English gloss, boundary confidence and alternatives; \
                 brief: words with pinyin; off: words only. Saved across sessions.",
        available: true,
    },
    CommandSpec {
        name: "demo",
        cmd: Cmd::Demo,
        args: "",
        summary: "teaching mode: big spacing, one word per keypress",
        detail: "Toggles teaching mode for a projector: sentences are shown with wide spacing \
                 and revealed one word at a time — press Space or → to reveal the next word \
                 with its explanation. /demo again leaves it.",
        available: true,
    },
    CommandSpec {
        name: "tones",
        cmd: Cmd::Tones,
        args: "on|off",
        summary: "colour each pinyin syllable by its tone",
        detail: "Colours each pinyin syllable by its tone in the words, the dictionary entry \
                 and teaching mode, with Pleco's default tone colours: 1st tone red, 2nd green, \
                 3rd blue, 4th purple, neutral grey. Never with NO_COLOR set. Saved across \
                 sessions (tone_colours in settings.toml).",
        available: true,
    },
    CommandSpec {
        name: "temp",
        cmd: Cmd::Temp,
        args: "T",
        summary: "sampling temperature for examples (0 = greedy)",
        detail: "Sets the temperature used when generating example sentences, 0 to 2. \
                 0 always picks the most likely token. Saved across sessions.",
        available: true,
    },
    CommandSpec {
        name: "top-p",
        cmd: Cmd::TopP,
        args: "P",
        summary: "nucleus sampling threshold for examples",
        detail: "Sets top-p (0 < P <= 1) for generating example sentences. Saved across sessions.",
        available: true,
    },
    CommandSpec {
        name: "seed",
        cmd: Cmd::Seed,
        args: "N",
        summary: "random seed for examples",
        detail: "Sets the seed for generating example sentences: the same seed and settings give \
                 the same examples. Saved across sessions.",
        available: true,
    },
    CommandSpec {
        name: "save",
        cmd: Cmd::Save,
        args: "FILE",
        summary: "save the transcript as Markdown",
        detail: "Writes every turn (sentence, words, pinyin, glosses) to FILE as Markdown \
                 (~/ is your home directory). An existing file is kept: /save! FILE replaces it. \
                 fenci never writes into its own data directory.",
        available: true,
    },
    CommandSpec {
        name: "clear",
        cmd: Cmd::Clear,
        args: "",
        summary: "clear the transcript",
        detail: "Removes every turn from the screen (history and settings are kept).",
        available: true,
    },
    CommandSpec {
        name: "quit",
        cmd: Cmd::Quit,
        args: "",
        summary: "leave fenci",
        detail: "Leaves fenci. Ctrl-C twice on an empty line does the same.",
        available: true,
    },
    CommandSpec {
        name: "fix",
        cmd: Cmd::Fix,
        args: "WORD WORD …",
        summary: "correct the last sentence: /fix 迈向 充满 希望",
        detail: "Gives the right words of the last sentence, separated by spaces: /fix 迈向 充满 希望 的 新 世纪. The characters must match the sentence (you are told where they differ); punctuation you leave out between words or at the end (。) is kept as words of its own. Corrections are saved at once and never lost; /train teaches them to the model. Press e to correct with the boundary editor instead.",
        available: true,
    },
    CommandSpec {
        name: "train",
        cmd: Cmd::Train,
        args: "",
        summary: "learn from your corrections (in the background)",
        detail: "Fine-tunes the active model on your corrections in the background: lower layers frozen, weights kept near the original, original sentences replayed, corrected words placed in other sentences. Progress shows in the status bar; Esc or /cancel stops it and keeps the current model. When it finishes you see each corrected sentence before and after, and the F1 on a small held-out set before and after.",
        available: true,
    },
    CommandSpec {
        name: "undo",
        cmd: Cmd::Undo,
        args: "",
        summary: "return to the previous model version",
        detail: "Makes the version the active one was trained from active again (bit-identical to before). /model lists the versions.",
        available: true,
    },
    CommandSpec {
        name: "dict",
        cmd: Cmd::Dict,
        args: "[add|rm WORD …]",
        summary: "your dictionary: words always kept whole",
        detail: "/dict lists your words; /dict add WORD … adds each (it is never split or merged with neighbours from now on; with one that cannot be added, none is); /dict rm WORD … removes them. A single character is asked for with /dict add! 一: in your dictionary it splits every longer word containing it (一 breaks 一起, 一定, 一直). Saved across sessions.",
        available: true,
    },
    CommandSpec {
        name: "corrections",
        cmd: Cmd::Corrections,
        args: "",
        summary: "list your corrections",
        detail: "Lists every saved correction and whether the active model was trained on it.",
        available: true,
    },
    CommandSpec {
        name: "edit",
        cmd: Cmd::Edit,
        args: "",
        summary: "correct the last sentence in the boundary editor",
        detail: "Opens the boundary editor on the last sentence (also: e in inspect mode): ←/→ move between characters, Space toggles a word boundary before the character, Enter saves the correction, Esc cancels.",
        available: true,
    },
    CommandSpec {
        name: "open",
        cmd: Cmd::Open,
        args: "FILE",
        summary: "open a text to review: fenci marks the words it is unsure of",
        detail: "Segments a whole text (one sentence a line; longer lines are cut after 。！？; .gz is read compressed), with progress (Esc cancels), and queues the sentences with a word fenci is unsure of, most informative first. The text and what you did with each sentence are kept in the data directory: /open the same file another day to continue. When another model becomes active (/train, /undo, /model), the sentences not answered yet are queued again with it. /review walks the queue; /doc shows the text a page at a time.",
        available: true,
    },
    CommandSpec {
        name: "review",
        cmd: Cmd::Review,
        args: "",
        summary: "walk through the sentences fenci is least sure of",
        detail: "Shows the next sentence of the open text's queue (/open FILE first), segmented and explained. Then: a or Enter — right as it is (saved as a correction: it teaches too); e — fix it in the boundary editor; s — skip; Esc — stop (/review continues). The status bar counts the reviewed sentences and the corrections waiting for /train.",
        available: true,
    },
    CommandSpec {
        name: "doc",
        cmd: Cmd::Doc,
        args: "[PAGE]",
        summary: "show the open text a page at a time, unsure words marked ?",
        detail: "Shows ten sentences of the open text with their line numbers: words fenci is unsure of end in ?; ✓ marks a sentence you confirmed, ✎ one you fixed, · one you skipped. /doc alone shows the next page, /doc N page N.",
        available: true,
    },
    CommandSpec {
        name: "cancel",
        cmd: Cmd::Cancel,
        args: "",
        summary: "stop the running job (training, segmenting)",
        detail: "Stops the running background job; the current model stays active.",
        available: true,
    },
    CommandSpec {
        name: "examples",
        cmd: Cmd::Examples,
        args: "WORD [N]",
        summary: "write N example sentences using WORD (default 3)",
        detail: "Writes N (1-20, default 3) sentences that contain WORD with the language model; \
                 the built-in LM writes a few candidates for each and shows the best (WORD a word \
                 in it, clean, common words: `fenci examples --stats` prints the scores). \
                 --level L (HSK 1-7) prefers sentences whose other words are at or below L. Each \
                 is then segmented and explained like a \
                 sentence you typed, and can be corrected. /temp, /top-p and /seed set the \
                 sampling (shown in the status bar); the same seed gives the same sentences. \
                 Esc or /cancel stops.",
        available: true,
    },
    CommandSpec {
        name: "lm",
        cmd: Cmd::Lm,
        args: "[ID]",
        summary: "show or switch the language model for /examples",
        detail: "/lm shows the language model; /lm ID loads another: `default` (built in, \
                 offline), a directory in the Hugging Face layout, or a hub id such as \
                 Qwen/Qwen2.5-0.5B-Instruct (downloaded once, with progress; instruct models \
                 follow prompts/examples.md). Remembered across sessions.",
        available: true,
    },
];

/// A parsed slash command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The command.
    pub spec: &'static CommandSpec,
    /// Its arguments, split on whitespace.
    pub args: Vec<String>,
    /// Typed with a `!` after the name (`/save! FILE`: overwrite).
    pub bang: bool,
}

/// Why a slash line is not a command.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    /// Just "/".
    Empty,
    /// No such command; the closest names, if any.
    Unknown {
        /// What was typed.
        name: String,
        /// Close matches.
        suggestions: Vec<&'static str>,
    },
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Empty => write!(f, "type a command after /, e.g. /help"),
            ParseError::Unknown { name, suggestions } if suggestions.is_empty() => {
                write!(f, "unknown command /{name} — /help lists them")
            }
            ParseError::Unknown { name, suggestions } => {
                let s: Vec<String> = suggestions.iter().map(|s| format!("/{s}")).collect();
                write!(
                    f,
                    "unknown command /{name} — did you mean {}?",
                    s.join(" or ")
                )
            }
        }
    }
}

/// Looks a command up by exact name.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Parses a line that starts with `/`.
pub fn parse(line: &str) -> Result<Parsed, ParseError> {
    let body = line.trim().trim_start_matches('/');
    let mut parts = body.split_whitespace();
    let Some(name) = parts.next() else {
        return Err(ParseError::Empty);
    };
    let lname = name.to_lowercase();
    // `/save!` is `/save` that may overwrite, `/dict! add 一` (also `/dict add! 一`) adds a
    // one-character word; no other command takes a `!`.
    let (lname, bang) = match lname.strip_suffix('!') {
        Some(n @ ("save" | "dict")) => (n.to_string(), true),
        _ => (lname, false),
    };
    match find(&lname) {
        Some(spec) => Ok(Parsed {
            spec,
            args: parts.map(str::to_string).collect(),
            bang,
        }),
        None => Err(ParseError::Unknown {
            name: name.to_string(),
            suggestions: suggest(&lname),
        }),
    }
}

/// Edit distance between two short strings (by chars).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Commands close to `name`: a prefix match, or within edit distance 2.
pub fn suggest(name: &str) -> Vec<&'static str> {
    if name.is_empty() {
        return vec![];
    }
    let mut scored: Vec<(usize, &'static str)> = COMMANDS
        .iter()
        .filter_map(|c| {
            let d = if c.name.starts_with(name) {
                0
            } else {
                distance(name, c.name)
            };
            (d <= 2.min(name.chars().count().max(1))).then_some((d, c.name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(2).map(|(_, n)| n).collect()
}

/// Tab completion of a command name: `Some(completed line)` when the prefix is unambiguous or
/// has a longer common prefix, plus the candidates.
pub fn complete(line: &str) -> (Option<String>, Vec<&'static str>) {
    let Some(prefix) = line.strip_prefix('/') else {
        return (None, vec![]);
    };
    if prefix.contains(char::is_whitespace) {
        // Complete `/help NAME` arguments too.
        if let Some(arg) = prefix.strip_prefix("help ") {
            let (c, cands) = complete(&format!("/{}", arg.trim_start()));
            return (c.map(|c| format!("/help {}", &c[1..])), cands);
        }
        return (None, vec![]);
    }
    let cands: Vec<&'static str> = COMMANDS
        .iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with(prefix))
        .collect();
    match cands.as_slice() {
        [] => (None, cands),
        [one] => (Some(format!("/{one} ")), cands),
        many => {
            let first = many[0];
            let common = (prefix.len()..=first.len())
                .rev()
                .find(|&k| many.iter().all(|c| c.get(..k) == first.get(..k)))
                .unwrap_or(prefix.len());
            let completed = (common > prefix.len()).then(|| format!("/{}", &first[..common]));
            (completed, cands)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_arguments() {
        let p = parse("/temp 0.3").unwrap();
        assert_eq!(p.spec.name, "temp");
        assert_eq!(p.args, vec!["0.3"]);
        assert_eq!(parse("  /HELP  model ").unwrap().args, vec!["model"]);
        assert_eq!(parse("/"), Err(ParseError::Empty));
    }

    #[test]
    fn unknown_commands_get_suggestions() {
        let e = parse("/hlep").unwrap_err();
        assert_eq!(e.to_string(), "unknown command /hlep — did you mean /help?");
        let e = parse("/qiut").unwrap_err();
        assert!(e.to_string().contains("/quit"), "{e}");
        let e = parse("/zzzzzz").unwrap_err();
        assert_eq!(e.to_string(), "unknown command /zzzzzz — /help lists them");
    }

    #[test]
    fn tab_completes_unique_and_common_prefixes() {
        assert_eq!(complete("/he").0.as_deref(), Some("/help "));
        assert_eq!(complete("/q").0.as_deref(), Some("/quit "));
        // /t → temp, top-p, train: no longer common prefix
        let (c, cands) = complete("/t");
        assert_eq!(c, None);
        assert_eq!(cands, vec!["tones", "temp", "top-p", "train"]);
        assert_eq!(complete("/e"), (None, vec!["explain", "edit", "examples"]));
        assert_eq!(complete("/exa").0.as_deref(), Some("/examples "));
        assert_eq!(complete("/help mo").0.as_deref(), Some("/help model "));
        assert_eq!(complete("hello"), (None, vec![]));
    }
}
