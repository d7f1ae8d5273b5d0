//! The commands on the user's data: `correct`, `corrections`, `dict`, `train` on the
//! corrections, `undo`, `models` and `export`. Each calls [`crate::service`] (the same code the
//! app runs) and prints.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::report::cancel_on_ctrl_c;
use super::{load_resolved, segmenter_for, ModelArg};
use crate::service::Service;
use crate::train::{AdaptConfig, Progress};

/// `fenci correct`.
#[derive(Debug, Args)]
pub struct CorrectArgs {
    /// The corrected words, separated by spaces (quote them as one argument or pass several).
    #[arg(required = true)]
    words: Vec<String>,
}

/// `fenci dict`.
#[derive(Debug, Args)]
pub struct DictArgs {
    /// `add WORD …`, `rm WORD …` or `list` (default).
    #[arg(default_value = "list")]
    action: String,
    /// The words: each is added (or removed); with one that cannot be added, none is.
    words: Vec<String>,
    /// Add one-character words too. A single character in your dictionary is always a word of
    /// its own, so every longer word that contains it is split (一 breaks 一起, 一定, 一直).
    #[arg(long)]
    force: bool,
}

/// Records a correction: `fenci correct "词 词 词"`.
pub(super) fn correct_cmd(a: CorrectArgs) -> Result<i32> {
    let words: Vec<String> = a
        .words
        .iter()
        .flat_map(|w| w.split_whitespace())
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        bail!("give the corrected words separated by spaces, e.g. fenci correct \"我 爱 北京\"");
    }
    let svc = Service::new(&crate::store::data_dir()?);
    // Keeping the user's words does not need a model: when the active one does not load, the
    // correction is saved without what the model said.
    let said = segmenter_for(&ModelArg { model: None }).and_then(|(seg, version)| {
        let s = seg.segment(&words.concat())?;
        let said: Vec<String> = s.word_strs().into_iter().map(str::to_string).collect();
        Ok((said, version))
    });
    let (before, version) = match said {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "warning: {}; the correction is saved without the model's words",
                super::error_message(&e)
            );
            (Vec::new(), String::new())
        }
    };
    let (c, warnings) = svc
        .correct(words, before.clone(), &version)
        .context("cannot save the correction")?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    say!("correction #{} saved: {}", c.id, c.words.join(" "));
    if before.is_empty() {
        say!("run `fenci train` to teach it once the model loads again (`fenci undo`, `fenci models`)");
    } else if before == c.words {
        say!("(the model already segments it this way)");
    } else {
        say!("the model said:  {}", before.join(" "));
        say!("run `fenci train` to teach it");
    }
    Ok(0)
}

pub(super) fn corrections_cmd() -> Result<i32> {
    let list = Service::new(&super::data_dir_checked()?).corrections()?;
    for w in &list.warnings {
        eprintln!("warning: {w}");
    }
    if list.records.is_empty() {
        say!("no corrections yet (fenci correct \"词 词 词\" adds one)");
    }
    for (c, trained) in &list.records {
        let mark = if *trained { "trained" } else { "new" };
        say!("#{:<4} {:<8} {}", c.id, mark, c.words.join(" "));
    }
    Ok(0)
}

pub(super) fn undo_cmd() -> Result<i32> {
    let (was, now) = Service::new(&super::data_dir_checked()?).undo()?;
    say!("active model: {now} (was {was})");
    Ok(0)
}

pub(super) fn dict_cmd(a: DictArgs) -> Result<i32> {
    let svc = Service::new(&crate::store::data_dir()?);
    match (a.action.as_str(), a.words.is_empty()) {
        ("add", false) => {
            let added = match svc.dict_add_words(&a.words, a.force) {
                Err(e @ crate::service::ServiceError::SingleCharWord { .. }) => {
                    bail!(
                        "{e}; `fenci dict add --force {}` adds it anyway",
                        a.words.join(" ")
                    )
                }
                r => r?,
            };
            for (w, new) in added {
                say!(
                    "{} {w}",
                    if new {
                        "added"
                    } else {
                        "already in the dictionary:"
                    }
                );
            }
        }
        ("rm" | "remove", false) => {
            for w in &a.words {
                let removed = svc.dict_remove(w)?;
                say!(
                    "{} {w}",
                    if removed {
                        "removed"
                    } else {
                        "not in the dictionary:"
                    }
                );
            }
        }
        ("list", true) => {
            for w in svc.dict_words() {
                say!("{w}");
            }
        }
        _ => {
            bail!("usage: fenci dict add WORD … [--force] | fenci dict rm WORD … | fenci dict list")
        }
    }
    Ok(0)
}

/// `fenci train` without --data: fine-tune the active model on the stored corrections (with
/// `no_route`, the new version answers every sentence; see [`AdaptConfig::route`]).
pub(super) fn train_corrections_cmd(no_route: bool) -> Result<i32> {
    let svc = Service::new(&super::data_dir_checked()?);
    let cancel = cancel_on_ctrl_c("stopping; the current model stays active…");
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} steps  ETA {eta}  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    // Off a terminal (a log, CI) the bar is hidden: a line every tenth of the run instead.
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last_tenth = None;
    let mut cfg = AdaptConfig::default();
    if no_route {
        cfg.route = None;
    }
    let report = svc.train(&cfg, 5, &cancel, |p| {
        if let Progress::Step {
            step, total, loss, ..
        } = p
        {
            bar.set_length(total as u64);
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss:.4}"));
            let tenth = step * 10 / total.max(1);
            if plain && last_tenth != Some(tenth) {
                last_tenth = Some(tenth);
                eprintln!("step {step}/{total}  loss {loss:.4}");
            }
        }
    })?;
    bar.finish_and_clear();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if report.cancelled {
        eprintln!("cancelled: the active model is still {}", report.parent);
        return Ok(130);
    }
    for line in report.lines() {
        say!("{line}");
    }
    say!(
        "active model: {} (fenci undo returns to {})",
        report.version,
        report.parent
    );
    Ok(0)
}

/// `fenci export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (new, empty, or an earlier export, which is replaced).
    dir: PathBuf,
    /// Model: `default`, a directory or a hub id (default: the active model).
    #[arg(long, short, value_name = "MODEL")]
    model: Option<String>,
    /// Store the weights as F16 (half the size).
    #[arg(long)]
    f16: bool,
}

pub(super) fn models_cmd() -> Result<i32> {
    let opts = crate::hub::HubOptions::from_env();
    say!("built in:\n  default");
    let cached = crate::hub::cached_models(&opts.cache_dir);
    say!("Hugging Face cache {}:", opts.cache_dir.display());
    if cached.is_empty() {
        say!("  (no models; `fenci segment --model owner/name` downloads one)");
    }
    for m in &cached {
        let refs: Vec<String> = m
            .refs
            .iter()
            .map(|(r, c)| format!("{r}→{}", &c[..c.len().min(7)]))
            .collect();
        let labels = m
            .complete
            .last()
            .and_then(|c| {
                let cfg = m.path.join("snapshots").join(c).join("config.json");
                crate::tagger::BertConfig::load(&cfg).ok()
            })
            .and_then(|cfg| cfg.labels("config.json").ok())
            .map(|l| format!("labels {}", l.names().join("")))
            .unwrap_or_else(|| "not a fenci segmenter".into());
        let state = if m.complete.is_empty() {
            "incomplete download".to_string()
        } else {
            labels
        };
        say!(
            "  {:<40} {:<16} {:>10}  {state}",
            m.repo,
            refs.join(" "),
            indicatif::HumanBytes(m.bytes).to_string()
        );
    }
    if let Ok(dir) = crate::store::data_dir() {
        let svc = Service::new(&dir);
        let local = svc.version_dirs();
        if !local.is_empty() {
            let active = svc.active();
            say!("fenci models {}:", dir.join("models").display());
            for (name, path) in local {
                let mut notes = Vec::new();
                if name == active {
                    notes.push("active");
                }
                if path.join(crate::tagger::ROUTE_FILE).is_file() {
                    notes.push("hands news-like text to the built-in model");
                }
                let mark = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", notes.join("; "))
                };
                say!("  {}{mark}", path.display());
            }
        }
    }
    Ok(0)
}

pub(super) fn export_cmd(a: ExportArgs) -> Result<i32> {
    let svc = Service::new(&crate::store::data_dir()?);
    // Refuse a directory fenci must not write into before loading (or downloading) anything.
    svc.check_export_target(&a.dir)?;
    let (files, license, origin) = match &a.model {
        Some(spec) => {
            let r = load_resolved(spec)?;
            (r.files, r.license, r.origin)
        }
        None => {
            let dir = crate::store::data_dir()?;
            let (name, files) = Service::new(&dir).load_active().with_context(|| {
                format!(
                    "cannot load the active model (data directory {})",
                    dir.display()
                )
            })?;
            (files, None, name)
        }
    };
    let mut card = license.as_ref().map(|l| {
        format!(
            "---\nlicense: {l}\n---\n\nExported by fenci from {origin}. The model's licence ({l}) applies to this copy.\n"
        )
    });
    if files.tokenizer_settings().is_fenci() {
        let c = card.get_or_insert_with(|| format!("Exported by fenci from {origin}.\n"));
        c.push_str(
            "\n## Tokenizer\n\nThe model was trained on fenci's lookups: full-width ASCII read as half-width, and a traditional character its vocabulary lacks read as a simplified form. `tokenizer.json` spells them out (`Replace` normalizers before the `BertNormalizer`), so `transformers` gives the token ids fenci feeds the model; `vocab.txt` alone does not.\n",
        );
        if files.features.is_some() {
            c.push_str(
                "\n## Dictionary features\n\nThe model also reads `token_type_ids` computed from `lexicon.txt`: for each token, how the words of the list (matched on token edges, never across whitespace, full-width folded) meet it: the longest word starting there, the longest ending there, inside a word or not (fenci's `src/text/words.rs`, `WordFeatures::types`). A client must compute them the same way and pass them as `token_type_ids`; with all zeros the model runs but segments worse.\n",
            );
        }
    }
    if let Some(route) = &files.route {
        eprintln!(
            "note: {}/route.json lists the {} corrected sentences this version was trained on \
             (fenci routes by them); delete it before sharing the model if they are private",
            a.dir.display(),
            route.domain.len()
        );
        let c = card.get_or_insert_with(|| format!("Exported by fenci from {origin}.\n"));
        c.push_str(
            "\n## Routing\n\n`route.json` holds the corrected sentences this version was fine-tuned on. fenci hands a sentence that reads like the built-in model's training text (People's Daily news) and not like them to its built-in model (`src/segment/route.rs`); other tools ignore the file and use these weights for every sentence.\n",
        );
    }
    let extra: Vec<(&str, &[u8])> = card.iter().map(|c| ("README.md", c.as_bytes())).collect();
    svc.export(&files, &a.dir, a.f16, &extra)
        .with_context(|| format!("cannot write {}", a.dir.display()))?;
    eprintln!("wrote {origin} to {}", a.dir.display());
    Ok(0)
}
