#!/usr/bin/env python3
"""An anchor for fenci's part-of-speech tags: jieba's `posseg` on a PKU `.pos.txt` gold file,
its tags mapped onto PKU's where they correspond, scored as `fenci eval` scores POS.

    pip install jieba==0.42.1
    python3 scripts/jieba-posseg.py ../shared/data/pku1998/test.pos.txt

Prints segmentation P/R/F1, joint segmentation+POS F1 (a word counts when its span and tag are
right) and POS accuracy on the words whose span is right. jieba's tag set is ICTCLAS's, close to
PKU's; the mapping below folds its refinements (nrt, nrfg → nr; uj, ul, … → u; x → w; eng → nx;
mq → m; rr, rz → r; df → d; zg → z). Tags without a PKU counterpart stay as they are (and count
as wrong).
"""
import sys

MAP = {
    "x": "w", "eng": "nx", "mq": "m", "nrt": "nr", "nrfg": "nr", "uj": "u", "ul": "u",
    "uz": "u", "ug": "u", "uv": "u", "ud": "u", "rr": "r", "rz": "r", "df": "d", "zg": "z",
    "ng": "Ng", "vg": "Vg", "ag": "Ag", "tg": "Tg", "dg": "Dg", "rg": "Rg", "yg": "y",
    "mg": "Mg", "bg": "Bg",
}


def spans(words):
    out, at = [], 0
    for w, t in words:
        out.append((at, at + len(w), t))
        at += len(w)
    return out


def main():
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(60)
    gold_path = sys.argv[1]
    n_gold = n_pred = seg_ok = joint_ok = 0
    with open(gold_path, encoding="utf-8") as f:
        for line in f:
            gold = [tuple(tok.rsplit("/", 1)) for tok in line.split()]
            if not gold:
                continue
            text = "".join(w for w, _ in gold)
            pred = [(p.word, MAP.get(p.flag, p.flag)) for p in pseg.lcut(text)]
            g = spans(gold)
            p = spans(pred)
            gset = {(s, e): t for s, e, t in g}
            n_gold += len(g)
            n_pred += len(p)
            for s, e, t in p:
                if (s, e) in gset:
                    seg_ok += 1
                    joint_ok += gset[(s, e)] == t
    P, R = seg_ok / n_pred, seg_ok / n_gold
    jp, jr = joint_ok / n_pred, joint_ok / n_gold
    print(f"jieba {jieba.__version__} posseg on {gold_path}")
    print(f"segmentation P {100*P:.2f} R {100*R:.2f} F1 {200*P*R/(P+R):.2f}")
    print(f"joint seg+POS F1 {200*jp*jr/(jp+jr):.2f}")
    print(f"POS accuracy on correctly segmented words {100*joint_ok/seg_ok:.2f} ({joint_ok}/{seg_ok})")


if __name__ == "__main__":
    main()
