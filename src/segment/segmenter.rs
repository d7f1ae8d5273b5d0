//! [`Segmenter`]: a tagger plus its tokenizer; lines in, [`Segmentation`]s out.

use super::{Constraints, Lexicon, PaddedBatch, Result, SegmentError, Segmentation};
use crate::tagger::{BertTagger, ModelError, ModelFiles, PosHead};
use crate::text::{CharTokenizer, TokenizerError, Units};

/// A tagger plus its tokenizer: lines in, [`Segmentation`]s out.
#[derive(Debug, Clone)]
pub struct Segmenter {
    model: BertTagger,
    tok: CharTokenizer,
    /// Longest window in units ([CLS]/[SEP] excluded).
    window: usize,
    /// Units shared by consecutive windows of a long line.
    overlap: usize,
    /// Upper bound on padded tokens per forward pass.
    batch_tokens: usize,
    /// Words forced at decode time (the user dictionary).
    dict: Vec<String>,
    /// A soft word prior (e.g. CC-CEDICT idioms).
    lexicon: Option<std::sync::Arc<Lexicon>>,
    /// Batches run at once, each on its own thread.
    workers: usize,
    /// The model's part-of-speech head, if it has one.
    pos_head: Option<std::sync::Arc<PosHead>>,
    /// Whether to tag parts of speech ([`Segmenter::set_pos`]).
    pos: bool,
    /// Display temperature of the probabilities (the model's, see
    /// [`crate::tagger::BertConfig::boundary_temperature`]).
    temperature: f32,
    /// For a version `/train` wrote: the built-in model and which sentences go to it
    /// ([`super::route`]).
    route: Option<std::sync::Arc<Routed>>,
}

/// The built-in model behind a fine-tuned one, and the router between them.
#[derive(Debug, Clone)]
struct Routed {
    base: Segmenter,
    router: super::Router,
    /// What the corrections taught string by string ([`super::rules`]), for this model's own
    /// sentences.
    rules: Vec<crate::tagger::Rule>,
}

/// One batch's per-token label log-probabilities and, with POS on, POS log-probabilities.
type BatchScores = (Vec<f32>, Option<Vec<f32>>);

/// Per-line label log-probabilities and, with POS on, per-line POS log-probabilities.
type LineScores = (Vec<Vec<f32>>, Option<Vec<Vec<f32>>>);

impl Segmenter {
    /// Builds a segmenter from loaded model files.
    pub fn new(files: &ModelFiles) -> Result<Self> {
        // Name the model the vocabulary belongs to: "DIR/tokenizer.json: …".
        let tok = files
            .tokenizer()
            .map_err(|TokenizerError(m)| TokenizerError(format!("{}/{m}", files.source)))?;
        if tok.id_bound() > files.config.vocab_size {
            return Err(SegmentError::Model(ModelError::BadWeights {
                file: files.source.clone(),
                message: format!(
                    "the tokenizer has ids up to {} but config.json says vocab_size {}",
                    tok.id_bound() - 1,
                    files.config.vocab_size
                ),
            }));
        }
        let model = BertTagger::from_tensors(&files.config, &files.tensors, true)?;
        let pos = PosHead::from_tensors(&files.config, &files.tensors, true)?
            .map(|h| {
                h.with_lexicon(files.pos_lexicon.as_deref())?
                    .with_context(files.pos_context.as_deref())
            })
            .transpose()?;
        let mut seg = Self::from_parts(model, tok).with_pos_head(pos);
        if let Some(spec) = &files.route {
            let base = Self::new(&ModelFiles::embedded()?)?;
            if base.model.labels() != seg.model.labels() {
                return Err(SegmentError::Model(crate::tagger::RouteSpec::error(
                    &std::path::Path::new(&files.source).join(crate::tagger::ROUTE_FILE),
                    "this model's labels differ from the built-in model's, so it cannot hand \
                     sentences to it",
                )));
            }
            seg.route = Some(std::sync::Arc::new(Routed {
                base,
                router: super::Router::new(spec),
                rules: spec.rules.clone(),
            }));
        }
        Ok(seg)
    }

    /// Applies `f` to the built-in model behind a routed one, so that it runs as this one does.
    fn base_too(&mut self, f: impl FnOnce(&mut Segmenter)) {
        if let Some(r) = self.route.as_mut() {
            f(&mut std::sync::Arc::make_mut(r).base);
        }
    }

    /// Whether some sentences go to the built-in model ([`super::route`]).
    pub fn is_routed(&self) -> bool {
        self.route.is_some()
    }

    /// Whether the built-in model segments `line` (always false for an unrouted model).
    pub fn routes_to_base(&self, line: &str) -> bool {
        self.route.as_ref().is_some_and(|r| r.router.to_base(line))
    }

    /// Replaces the part-of-speech head (`None`: none; POS tagging then stays off).
    pub fn with_pos_head(mut self, head: Option<PosHead>) -> Self {
        self.pos_head = head.map(std::sync::Arc::new);
        self.pos &= self.pos_head.is_some();
        self
    }

    /// Turns part-of-speech tagging on or off (off by default). On, each [`Segmentation`] gets
    /// one [`super::PosTag`] per word, computed in the same forward passes as the segmentation
    /// (the words do not change); a model without a POS head ignores it ([`Segmenter::has_pos`]).
    pub fn set_pos(&mut self, on: bool) {
        self.pos = on && self.pos_head.is_some();
        let own = self.pos;
        self.base_too(|b| b.set_pos(own));
    }

    /// Whether the model has a part-of-speech head.
    pub fn has_pos(&self) -> bool {
        self.pos_head.is_some()
    }

    /// The part-of-speech head, if the model has one.
    pub fn pos_head(&self) -> Option<&PosHead> {
        self.pos_head.as_deref()
    }

    /// Builds a segmenter around an existing tagger (e.g. one being trained).
    pub fn from_parts(model: BertTagger, tok: CharTokenizer) -> Self {
        let window = model
            .config()
            .max_position_embeddings
            .saturating_sub(2)
            .max(1);
        let temperature = model.config().boundary_temperature();
        Self {
            temperature,
            overlap: (window / 4).min(32),
            window,
            model,
            tok,
            batch_tokens: 2048,
            dict: Vec::new(),
            lexicon: None,
            workers: 1,
            pos_head: None,
            pos: false,
            route: None,
        }
    }

    /// Runs up to `n` batches at once, each on its own thread (default 1). For throughput on
    /// many lines, pair it with candle's op threads set to 1 (`RAYON_NUM_THREADS=1`), as
    /// `fenci segment` and `fenci eval` do: threading inside one forward pass spends much of its
    /// time at barriers on tensors this small (4.9 s → 4.1 s on the test split, 2 cores).
    pub fn set_workers(&mut self, n: usize) {
        self.workers = n.max(1);
        self.base_too(|b| b.set_workers(n));
    }

    /// Sets the arithmetic of the tagger's matrix products; false (F32 kept) where this CPU or
    /// model cannot run `p`. See [`crate::kernels::Precision`].
    pub fn set_precision(&mut self, p: crate::kernels::Precision) -> bool {
        let mut base_ok = true;
        self.base_too(|b| base_ok = b.set_precision(p));
        let ok = self.model.set_precision(p) && base_ok;
        if let Some(h) = self.pos_head.as_mut() {
            let mut head = (**h).clone();
            let pos_ok = head.set_precision(if ok {
                p
            } else {
                crate::kernels::Precision::F32
            });
            *h = std::sync::Arc::new(head);
            return ok && pos_ok;
        }
        ok
    }

    /// Sets (or clears) the soft word prior applied at decode time.
    pub fn set_lexicon(&mut self, lexicon: Option<std::sync::Arc<Lexicon>>) {
        self.base_too(|b| b.set_lexicon(lexicon.clone()));
        self.lexicon = lexicon;
    }

    /// Sets the display temperature of the probabilities (the model's own by default; 1 shows
    /// the scores as they are). The words do not depend on it.
    pub fn set_temperature(&mut self, t: f32) {
        self.temperature = if t.is_finite() && t > 0.0 { t } else { 1.0 };
        self.base_too(|b| b.set_temperature(t));
    }

    /// The display temperature of the probabilities.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// The constraints a line is decoded under: whitespace, Latin words and addresses, the
    /// forced words ([`Self::set_dict`]), and for a model with dictionary features the AABB
    /// reduplications of its words ([`super::constraints::reduplications`]: 干干净净) and a
    /// boundary after a degree adverb ([`super::constraints::degree_boundaries`]: 非常 困).
    pub fn constraints(&self, line: &str, units: &Units) -> Constraints {
        let mut c = Constraints::for_line(line, units);
        let mut redup = Vec::new();
        if let Some(w) = self.tok.feature_words() {
            c.force_boundaries_at(line, units, &super::constraints::degree_boundaries(line, w));
            redup = super::constraints::reduplications(line, w, &self.dict);
        }
        if redup.is_empty() {
            c.force_words(line, units, &self.dict);
        } else {
            let mut words = self.dict.clone();
            words.extend(redup);
            c.force_words(line, units, &words);
        }
        c
    }

    /// Sets the words to force at decode time.
    pub fn set_dict(&mut self, words: Vec<String>) {
        self.base_too(|b| b.set_dict(words.clone()));
        self.dict = words;
    }

    /// The words forced at decode time ([`Self::set_dict`]).
    pub fn dict(&self) -> &[String] {
        &self.dict
    }

    /// The tagger.
    pub fn model(&self) -> &BertTagger {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &CharTokenizer {
        &self.tok
    }

    /// Sets the longest window (for tests of long-input handling).
    pub fn set_window(&mut self, window: usize, overlap: usize) {
        let max = self
            .model
            .config()
            .max_position_embeddings
            .saturating_sub(2)
            .max(1);
        self.window = window.clamp(1, max);
        self.overlap = overlap.min(self.window / 2);
        self.base_too(|b| b.set_window(window, overlap));
    }

    /// Segments one line.
    pub fn segment(&self, text: &str) -> Result<Segmentation> {
        Ok(self.segment_batch(&[text])?.pop().expect("one result"))
    }

    /// Segments many lines at once (faster: they share forward passes). A routed model
    /// ([`super::route`]) hands the lines that read like the built-in model's domain to it.
    pub fn segment_batch<S: AsRef<str>>(&self, lines: &[S]) -> Result<Vec<Segmentation>> {
        let Some(r) = &self.route else {
            return self.segment_own(lines);
        };
        let to_base: Vec<bool> = lines.iter().map(|l| r.router.to_base(l.as_ref())).collect();
        let pick = |want: bool| -> Vec<&str> {
            lines
                .iter()
                .zip(&to_base)
                .filter(|(_, &b)| b == want)
                .map(|(l, _)| l.as_ref())
                .collect()
        };
        let mut own = self.segment_own(&pick(false))?.into_iter();
        let mut base = r.base.segment_own(&pick(true))?.into_iter().map(|mut s| {
            s.by_built_in = true;
            s
        });
        Ok(to_base
            .iter()
            .map(|&b| if b { base.next() } else { own.next() })
            .map(|s| s.expect("one segmentation per line"))
            .collect())
    }

    /// The rules a routed version's corrections taught ([`super::rules`]); none otherwise.
    fn rules(&self) -> &[crate::tagger::Rule] {
        self.route.as_ref().map_or(&[], |r| &r.rules)
    }

    /// Decodes one line from its label log-probabilities at display temperature `t` under
    /// [`Self::constraints`]; where one of `rules` disagrees with the words, decodes again with
    /// the rule's words forced.
    fn decode_line(
        &self,
        line: &str,
        u: Units,
        lp: Vec<f32>,
        t: f32,
        rules: &[crate::tagger::Rule],
    ) -> Segmentation {
        let scheme = self.model.labels();
        let mut c = self.constraints(line, &u);
        let s = Segmentation::from_scores_tempered(line, u, lp, scheme, &c, t);
        if rules.is_empty() {
            return s;
        }
        let ranges: Vec<_> = s.words.iter().map(|w| w.chars.clone()).collect();
        let fixes: Vec<(usize, &[String])> = super::rules::fixes(line, &ranges, rules)
            .into_iter()
            .map(|(k, r)| (k, r.words.as_slice()))
            .collect();
        if c.force_segmentations(line, &s.units, &fixes) {
            Segmentation::from_scores_tempered(line, s.units, s.log_probs, scheme, &c, t)
        } else {
            s
        }
    }

    /// `s` (a segmentation this segmenter gave) with its probabilities at display temperature
    /// `t`: the same words, decoded as it was decoded (with the rules of a routed version's own
    /// sentences).
    pub fn at_temperature(&self, s: &Segmentation, t: f32) -> Segmentation {
        let rules = if s.by_built_in { &[] } else { self.rules() };
        let base = self
            .route
            .as_ref()
            .map(|r| &r.base)
            .filter(|_| s.by_built_in);
        base.unwrap_or(self)
            .decode_line(&s.text, s.units.clone(), s.log_probs.clone(), t, rules)
    }

    /// [`Segmenter::segment_batch`] by this model alone.
    fn segment_own<S: AsRef<str>>(&self, lines: &[S]) -> Result<Vec<Segmentation>> {
        let units: Vec<Units> = lines.iter().map(|l| self.tok.units(l.as_ref())).collect();
        let (log_probs, pos_lp) = self.scores(&units)?;
        let mut pos_lp = pos_lp.map(Vec::into_iter);
        let scheme = self.model.labels();
        let rules = self.rules();
        Ok(lines
            .iter()
            .zip(units)
            .zip(log_probs)
            .map(|((line, u), mut lp)| {
                if let Some(lex) = &self.lexicon {
                    lex.apply(line.as_ref(), &u, scheme, &mut lp);
                }
                let mut s = self.decode_line(line.as_ref(), u, lp, self.temperature, rules);
                if let (Some(plp), Some(head)) =
                    (pos_lp.as_mut().and_then(Iterator::next), &self.pos_head)
                {
                    s.pos = super::word_tags(
                        &s.units,
                        &s.words,
                        &plp,
                        head.tags(),
                        head.lexicon(),
                        head.context(),
                    );
                }
                s
            })
            .collect())
    }

    /// Part-of-speech log-probabilities per unit for each line (`units × tags`, row-major), or
    /// `None` for a model without a POS head. Runs the encoder once for both heads.
    pub fn pos_log_probs(&self, lines: &[Units]) -> Result<Option<Vec<Vec<f32>>>> {
        if self.pos_head.is_none() {
            return Ok(None);
        }
        let mut me = self.clone();
        me.pos = true;
        Ok(me.scores(lines)?.1)
    }

    /// Label log-probabilities per unit for each line (`units × labels`, row-major).
    pub fn label_log_probs(&self, lines: &[Units]) -> Result<Vec<Vec<f32>>> {
        if self.pos {
            let mut me = self.clone();
            me.pos = false;
            return Ok(me.scores(lines)?.0);
        }
        Ok(self.scores(lines)?.0)
    }

    /// [`Segmenter::label_log_probs`] and, with POS on, the POS log-probabilities per unit
    /// (`units × tags`), from the same forward passes.
    fn scores(&self, lines: &[Units]) -> Result<LineScores> {
        let nl = self.model.labels().len();
        let head = self.pos_head.as_deref().filter(|_| self.pos);
        let np = head.map_or(0, |h| h.tags().len());
        // Cut every line into windows: (line, start, len, own_start, own_end).
        let mut windows = Vec::new();
        for (li, u) in lines.iter().enumerate() {
            let n = u.len();
            if n == 0 {
                continue;
            }
            if n <= self.window {
                windows.push((li, 0, n, 0, n));
                continue;
            }
            let stride = (self.window - self.overlap).max(1);
            let mut s = 0;
            loop {
                let e = (s + self.window).min(n);
                let own_s = if s == 0 { 0 } else { s + self.overlap / 2 };
                let own_e = if e == n {
                    n
                } else {
                    e - (self.overlap - self.overlap / 2)
                };
                windows.push((li, s, e - s, own_s, own_e));
                if e == n {
                    break;
                }
                s += stride;
            }
        }
        let mut out: Vec<Vec<f32>> = lines.iter().map(|u| vec![0.0; u.len() * nl]).collect();
        let mut pos_out: Option<Vec<Vec<f32>>> =
            head.map(|_| lines.iter().map(|u| vec![0.0; u.len() * np]).collect());
        // Longest first, so each batch pads little.
        windows.sort_by_key(|w| std::cmp::Reverse(w.2));
        let mut batches = Vec::new();
        let mut i = 0;
        while i < windows.len() {
            let rows = (self.batch_tokens / (windows[i].2 + 2)).clamp(1, 256);
            let end = (i + rows).min(windows.len());
            batches.push(&windows[i..end]);
            i = end;
        }
        // Whole batches run side by side, one per worker thread (see `set_workers`).
        let workers = self.workers.clamp(1, batches.len().max(1));
        let results: Vec<Result<BatchScores>> = if workers > 1 {
            // Each worker takes the next batch until none is left and returns what it did.
            let next = std::sync::atomic::AtomicUsize::new(0);
            let mut done: Vec<(usize, Result<BatchScores>)> = std::thread::scope(|sc| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        sc.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(batch) = batches.get(k) else {
                                    break mine;
                                };
                                mine.push((k, self.batch_log_probs(lines, batch)));
                            }
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            });
            done.sort_by_key(|(k, _)| *k);
            done.into_iter().map(|(_, r)| r).collect()
        } else {
            batches
                .iter()
                .map(|b| self.batch_log_probs(lines, b))
                .collect()
        };
        for (batch, lp) in batches.iter().zip(results) {
            let (lp, plp) = lp?;
            let t = batch[0].2 + 2;
            for (r, &(li, s, _, own_s, own_e)) in batch.iter().enumerate() {
                for u in own_s..own_e {
                    let src = (r * t + 1 + (u - s)) * nl;
                    out[li][u * nl..(u + 1) * nl].copy_from_slice(&lp[src..src + nl]);
                }
                if let (Some(po), Some(plp)) = (pos_out.as_mut(), plp.as_ref()) {
                    for u in own_s..own_e {
                        let src = (r * t + 1 + (u - s)) * np;
                        po[li][u * np..(u + 1) * np].copy_from_slice(&plp[src..src + np]);
                    }
                }
            }
        }
        Ok((out, pos_out))
    }

    /// Log-probabilities (`rows × (longest + 2) × labels`, flat) of one batch of windows
    /// `(line, start, len, …)`, longest first.
    fn batch_log_probs(
        &self,
        lines: &[Units],
        batch: &[(usize, usize, usize, usize, usize)],
    ) -> Result<BatchScores> {
        let rows: Vec<(&[u32], &[u32])> = batch
            .iter()
            .map(|&(li, s, len, _, _)| (&lines[li].ids[s..s + len], &lines[li].types[s..s + len]))
            .collect();
        let (ids, types, mask) = PaddedBatch::build(&rows, &self.tok, |_, _, id| id).tensors()?;
        let log_softmax = |x: &candle_core::Tensor| -> Result<Vec<f32>> {
            let lp = candle_nn::ops::log_softmax(x, candle_core::D::Minus1)?;
            Ok(lp.flatten_all()?.to_vec1()?)
        };
        match self.pos_head.as_deref().filter(|_| self.pos) {
            None => {
                let logits = self.model.forward(&ids, &types, &mask, None)?;
                Ok((log_softmax(&logits)?, None))
            }
            Some(head) => {
                // One encoder pass for both heads (`forward` is `encode` + `classify`).
                let states = self.model.hidden_states(&ids, &types, &mask, None, true)?;
                let logits = self.model.classify(states.last().expect("hidden states"))?;
                let pos = head.forward(&states, &mask, None)?;
                Ok((log_softmax(&logits)?, Some(log_softmax(&pos)?)))
            }
        }
    }
}
