//! fenci for Python (`import fenci`): a `Segmenter` over any model fenci loads (the built-in
//! one, a directory, a hub id), with `cut`, `cut_batch` (the GIL released, batches across
//! cores) and `explain` (the records of `fenci segment --format jsonl`). Every line goes
//! through the streaming segmenter behind `fenci segment`, so the words are those of
//! `fenci segment --model M` for the same model and user dictionary, line for line (the command
//! without `--model` uses the data directory's active version and dictionary instead). Errors
//! are Python exceptions carrying fenci's message.

use std::io::Write;
use std::path::PathBuf;

use fenci::explain::Dictionary;
use fenci::segment::stream::{segment_stream_to, Invalid, LineSink};
use fenci::segment::{Segmentation, Segmenter as Inner};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    _fenci,
    FenciError,
    pyo3::exceptions::PyException,
    "A model that cannot be loaded, or text fenci cannot segment; the message says why."
);

/// Collects each line's words (what `fenci segment` would write, separated).
#[derive(Default)]
struct Words {
    lines: Vec<Vec<String>>,
    current: Vec<String>,
}

impl LineSink for Words {
    fn words(
        &mut self,
        s: &Segmentation,
        take: usize,
        _char_offset: usize,
        _whole: bool,
        _out: &mut dyn Write,
    ) -> std::io::Result<()> {
        // The words alone (display_words would add /TAG were POS tagging on).
        self.current
            .extend(s.words.iter().take(take).map(|w| w.text.clone()));
        Ok(())
    }

    fn end_line(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        self.lines.push(std::mem::take(&mut self.current));
        Ok(())
    }
}

fn err(e: impl std::fmt::Display) -> PyErr {
    FenciError::new_err(e.to_string())
}

/// One line per text: a text's own line breaks are spaces (whitespace between words either
/// way), so `cut` gives one list of words per text.
fn as_lines<S: AsRef<str>>(texts: &[S]) -> String {
    let mut all = String::new();
    for t in texts {
        all.push_str(&t.as_ref().replace(['\r', '\n'], " "));
        all.push('\n');
    }
    all
}

/// A Chinese word segmenter.
///
/// `model`: "default" (the model built into fenci), a directory in the Hugging Face layout
/// (config.json, vocab.txt, model.safetensors), or a hub id (downloaded once into the
/// Hugging Face cache). `user_dict`: words always kept whole, as a list or the path of a file
/// with one word a line (lines starting with # are comments). `threads`: batches segmented at
/// once by `cut_batch` (default: all cores).
#[pyclass(module = "fenci._fenci", frozen, subclass)]
struct Segmenter {
    inner: Inner,
    /// The same model with part-of-speech tagging on (it chooses readings and senses), as
    /// `fenci segment --format jsonl` runs it.
    explainer: Inner,
    model: String,
}

#[pymethods]
impl Segmenter {
    #[new]
    #[pyo3(signature = (model = "default", user_dict = None, threads = None))]
    fn new(
        py: Python<'_>,
        model: &str,
        user_dict: Option<&Bound<'_, PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        let words = match user_dict {
            None => Vec::new(),
            Some(d) => match d.extract::<Vec<String>>() {
                Ok(w) if !d.is_instance_of::<pyo3::types::PyString>() => w,
                _ => {
                    let path: PathBuf = d.extract().map_err(|_| {
                        PyValueError::new_err(
                            "user_dict: give a list of words or the path of a file with one word a line",
                        )
                    })?;
                    let text = fenci::fsio::read_text(&path)
                        .map_err(|e| PyOSError::new_err(e.to_string()))?;
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_string)
                        .collect()
                }
            },
        };
        let spec = model.to_string();
        let mut inner = py
            .detach(|| -> anyhow::Result<Inner> {
                let files = fenci::cli::load_model(&spec)?;
                Ok(Inner::new(&files)?)
            })
            .map_err(|e| FenciError::new_err(format!("{e:#}")))?;
        inner.set_dict(words);
        inner.set_workers(threads.unwrap_or_else(candle_threads));
        let mut explainer = inner.clone();
        explainer.set_pos(true);
        Ok(Self {
            inner,
            explainer,
            model: model.to_string(),
        })
    }

    /// The words of `text` (its line breaks count as spaces).
    fn cut(&self, py: Python<'_>, text: &str) -> PyResult<Vec<String>> {
        let mut lines = self.cut_lines(py, &[text])?;
        Ok(lines.pop().unwrap_or_default())
    }

    /// The words of each text, in order; the GIL is released while fenci works, and batches
    /// run on `threads` cores.
    fn cut_batch(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<Vec<String>>> {
        self.cut_lines(py, &texts)
    }

    /// `text` (one line) explained: the record `fenci segment --format jsonl` writes for it,
    /// as a dict (words with offsets, part of speech, pinyin, gloss, HSK level, the
    /// probability of the boundary before each word; the alternatives).
    fn explain(&self, py: Python<'_>, text: &str) -> PyResult<String> {
        if text.contains(['\n', '\r']) {
            return Err(PyValueError::new_err(
                "explain takes one line: explain each of text.splitlines()",
            ));
        }
        let out = py.detach(|| -> Result<Vec<u8>, String> {
            let seg = &self.explainer;
            let dict = Dictionary::embedded();
            let mut sink = fenci::cli::JsonSink::new(dict, seg.model().labels());
            let mut out = Vec::new();
            // One line, even an empty one (it gets the command's record of an empty line).
            let line = format!("{text}\n");
            let mut input = line.as_bytes();
            segment_stream_to(
                seg,
                &mut sink,
                &mut input,
                "text",
                &mut out,
                Invalid::Stop,
                &mut |_, _| {},
            )
            .map_err(|e| e.to_string())?;
            Ok(out)
        });
        let out = out.map_err(err)?;
        let line = String::from_utf8(out).map_err(err)?;
        Ok(line.trim_end().to_string())
    }

    /// The model, as it was named.
    #[getter]
    fn model(&self) -> &str {
        &self.model
    }

    fn __repr__(&self) -> String {
        format!("fenci.Segmenter(model={:?})", self.model)
    }
}

impl Segmenter {
    fn cut_lines<S: AsRef<str> + Sync>(
        &self,
        py: Python<'_>,
        texts: &[S],
    ) -> PyResult<Vec<Vec<String>>> {
        let all = as_lines(texts);
        let r = py.detach(|| -> Result<Vec<Vec<String>>, String> {
            let mut sink = Words::default();
            let mut input = all.as_bytes();
            segment_stream_to(
                &self.inner,
                &mut sink,
                &mut input,
                "text",
                &mut std::io::sink(),
                Invalid::Stop,
                &mut |_, _| {},
            )
            .map_err(|e| e.to_string())?;
            Ok(sink.lines)
        });
        let mut lines = r.map_err(err)?;
        // An empty input has no line at all; every text gets its list.
        lines.resize(texts.len(), Vec::new());
        Ok(lines)
    }
}

fn candle_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// fenci's Rust core.
#[pymodule]
fn _fenci(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Segmenter>()?;
    m.add("FenciError", m.py().get_type::<FenciError>())?;
    Ok(())
}
