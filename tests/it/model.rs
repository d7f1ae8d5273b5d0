//! The tagger: gradients, HF names, save/load round trip.
use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use fenci::segment::Segmenter;
use fenci::tagger::{self, BertTagger, LabelScheme, ModelFiles};

use crate::util::{tempdir, tiny_model, write_model};

/// Loss of a fixed batch under the training-mode (differentiable) forward pass, dropout off.
fn loss(tagger: &BertTagger, ids: &Tensor, mask: &Tensor, targets: &Tensor) -> Tensor {
    // Dictionary-feature token types, so their embedding table is checked too.
    let types = Tensor::new(&[[0u32, 3, 8, 17, 0, 0], [0, 31, 2, 1, 5, 0]], &Device::Cpu).unwrap();
    let logits = tagger.forward(ids, &types, mask, Some((0.0, 0))).unwrap();
    let (b, t, l) = logits.dims3().unwrap();
    candle_nn::loss::cross_entropy(&logits.reshape((b * t, l)).unwrap(), targets).unwrap()
}

#[test]
fn gradients_match_finite_differences() {
    // F64 so central differences are precise. Every parameter group is checked: embeddings and
    // their LayerNorm, attention, both LayerNorms of each layer, feed-forward, classifier.
    let mut m = tiny_model(&LabelScheme::bmes(), 2, 8, 16, 3);
    m.add_word_features(fenci::text::WordSet::parse("我们\n"))
        .unwrap();
    let tensors: Vec<(String, Tensor)> = m
        .sorted_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_dtype(DType::F64).unwrap()))
        .collect();
    let vm = tagger::varmap_from(&tensors).unwrap();
    let tagger = BertTagger::from_varmap(&m.config, &vm).unwrap();
    let dev = Device::Cpu;
    let ids = Tensor::new(&[[2u32, 5, 9, 11, 3, 0], [2, 7, 6, 8, 20, 3]], &dev).unwrap();
    let mask = Tensor::new(
        &[[1f64, 1., 1., 1., 1., 0.], [1., 1., 1., 1., 1., 1.]],
        &dev,
    )
    .unwrap();
    let targets = Tensor::new(&[3u32, 0, 2, 1, 3, 0, 0, 2, 3, 0, 1, 2], &dev).unwrap();
    let l = loss(&tagger, &ids, &mask, &targets);
    let grads = l.backward().unwrap();
    let vars: HashMap<String, Var> = vm.data().lock().unwrap().clone();
    let checked = [
        "bert.embeddings.word_embeddings.weight",
        "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight",
        "bert.embeddings.LayerNorm.weight",
        "bert.embeddings.LayerNorm.bias",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.0.attention.self.key.weight",
        "bert.encoder.layer.0.attention.self.value.bias",
        "bert.encoder.layer.0.attention.output.dense.weight",
        "bert.encoder.layer.0.attention.output.LayerNorm.weight",
        "bert.encoder.layer.0.intermediate.dense.weight",
        "bert.encoder.layer.0.output.dense.weight",
        "bert.encoder.layer.0.output.LayerNorm.bias",
        "bert.encoder.layer.1.attention.self.query.weight",
        "bert.encoder.layer.1.output.LayerNorm.weight",
        "classifier.weight",
        "classifier.bias",
    ];
    let eps = 1e-5;
    for name in checked {
        let var = &vars[name];
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("no gradient reaches {name}"));
        let g: Vec<f64> = g.flatten_all().unwrap().to_vec1().unwrap();
        let orig: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let shape = var.as_tensor().shape().clone();
        // Probe a few coordinates, the ones with the largest analytic gradient included.
        let mut idx: Vec<usize> = (0..orig.len()).collect();
        idx.sort_by(|&a, &b| g[b].abs().partial_cmp(&g[a].abs()).unwrap());
        let probes: Vec<usize> = idx
            .iter()
            .take(3)
            .copied()
            .chain([orig.len() / 2])
            .collect();
        for &i in &probes {
            let mut plus = orig.clone();
            plus[i] += eps;
            var.set(&Tensor::from_vec(plus, shape.clone(), &dev).unwrap())
                .unwrap();
            let lp: f64 = loss(&tagger, &ids, &mask, &targets).to_scalar().unwrap();
            let mut minus = orig.clone();
            minus[i] -= eps;
            var.set(&Tensor::from_vec(minus, shape.clone(), &dev).unwrap())
                .unwrap();
            let lm: f64 = loss(&tagger, &ids, &mask, &targets).to_scalar().unwrap();
            var.set(&Tensor::from_vec(orig.clone(), shape.clone(), &dev).unwrap())
                .unwrap();
            let fd = (lp - lm) / (2.0 * eps);
            let err = (fd - g[i]).abs() / (fd.abs() + g[i].abs()).max(1e-6);
            assert!(
                err < 1e-4 || (fd - g[i]).abs() < 1e-8,
                "{name}[{i}]: analytic {} vs finite difference {fd} (rel err {err})",
                g[i]
            );
        }
        // A gradient that is zero everywhere would mean the path is cut.
        assert!(
            g.iter().any(|x| x.abs() > 1e-9),
            "{name}: gradient is all zero"
        );
    }
}

#[test]
fn saved_names_follow_the_hugging_face_layout() {
    let m = tiny_model(&LabelScheme::bmes(), 1, 8, 16, 1);
    let dir = tempdir();
    write_model(&m, dir.path());
    let bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(|s| s.to_string()).collect();
    names.sort();
    let mut expected: Vec<&str> = vec![
        "bert.embeddings.LayerNorm.bias",
        "bert.embeddings.LayerNorm.weight",
        "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight",
        "bert.embeddings.word_embeddings.weight",
        "bert.encoder.layer.0.attention.output.LayerNorm.bias",
        "bert.encoder.layer.0.attention.output.LayerNorm.weight",
        "bert.encoder.layer.0.attention.output.dense.bias",
        "bert.encoder.layer.0.attention.output.dense.weight",
        "bert.encoder.layer.0.attention.self.key.bias",
        "bert.encoder.layer.0.attention.self.key.weight",
        "bert.encoder.layer.0.attention.self.query.bias",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.0.attention.self.value.bias",
        "bert.encoder.layer.0.attention.self.value.weight",
        "bert.encoder.layer.0.intermediate.dense.bias",
        "bert.encoder.layer.0.intermediate.dense.weight",
        "bert.encoder.layer.0.output.LayerNorm.bias",
        "bert.encoder.layer.0.output.LayerNorm.weight",
        "bert.encoder.layer.0.output.dense.bias",
        "bert.encoder.layer.0.output.dense.weight",
        "classifier.bias",
        "classifier.weight",
    ];
    expected.sort();
    assert_eq!(names, expected);
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["architectures"][0], "BertForTokenClassification");
    assert_eq!(cfg["id2label"]["0"], "B");
    assert_eq!(cfg["id2label"]["3"], "S");
    assert_eq!(cfg["label2id"]["E"], 2);
    assert_eq!(cfg["model_type"], "bert");
    assert!(dir.path().join("vocab.txt").is_file());
}

#[test]
fn save_then_load_gives_bit_identical_outputs() {
    let m = tiny_model(&LabelScheme::bmes(), 2, 16, 32, 5);
    let dir = tempdir();
    write_model(&m, dir.path());
    let loaded = ModelFiles::load_dir(dir.path()).unwrap();
    assert_eq!(loaded.config, m.config);
    let a = Segmenter::new(&m).unwrap();
    let b = Segmenter::new(&loaded).unwrap();
    let lines = ["我爱北京天安门", "他们喜欢看电影。", "abc 123 学习中文"];
    let sa = a.segment_batch(&lines).unwrap();
    let sb = b.segment_batch(&lines).unwrap();
    for (x, y) in sa.iter().zip(&sb) {
        let bx: Vec<u32> = x.log_probs.iter().map(|f| f.to_bits()).collect();
        let by: Vec<u32> = y.log_probs.iter().map(|f| f.to_bits()).collect();
        assert_eq!(bx, by, "log-probs differ after a round trip");
        assert_eq!(x.words, y.words);
    }
    // And a second save of the loaded model writes the same bytes.
    let dir2 = tempdir();
    write_model(&loaded, dir2.path());
    assert_eq!(
        std::fs::read(dir.path().join("model.safetensors")).unwrap(),
        std::fs::read(dir2.path().join("model.safetensors")).unwrap()
    );
}

#[test]
fn b_i_models_load_and_decode() {
    let m = tiny_model(&LabelScheme::bi(), 1, 8, 16, 2);
    assert!(m.config.labels("config.json").unwrap().is_bi());
    let s = Segmenter::new(&m).unwrap().segment("我爱北京").unwrap();
    assert_eq!(s.word_strs().concat(), "我爱北京");
}
