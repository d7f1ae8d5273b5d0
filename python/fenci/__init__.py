"""fenci: Chinese word segmentation with a BERT character tagger, from Python.

    >>> import fenci
    >>> fenci.cut("我爱北京天安门")
    ['我', '爱', '北京', '天安门']
    >>> seg = fenci.Segmenter()            # the built-in model; or a directory, or a hub id
    >>> seg.cut_batch(["今天天气很好。", "他在学习中文。"])
    [['今天', '天气', '很', '好', '。'], ['他', '在', '学习', '中文', '。']]
    >>> seg.explain("我很累")["words"][2]["pinyin"]
    'lèi'

The words are those of `fenci segment --model M` with the same model and user dictionary, line
for line.
"""

import json as _json
import os as _os
import threading as _threading

# fenci runs whole batches on `threads` cores, each batch on one (as `fenci segment` does):
# threading inside one forward pass spends most of its time at barriers on tensors this small.
# candle reads its thread count from RAYON_NUM_THREADS; a value you set is kept.
_os.environ.setdefault("RAYON_NUM_THREADS", "1")

from ._fenci import FenciError
from ._fenci import Segmenter as _Segmenter

__all__ = ["Segmenter", "FenciError", "cut"]


class Segmenter(_Segmenter):
    __doc__ = _Segmenter.__doc__

    def explain(self, text):
        """`text` (one line) explained: the record of `fenci segment --format jsonl` as a dict.

        Keys: "line", "words" (each: "text", "start" and "end" in characters, "pos" and
        "pos_label", "pinyin", "other_readings", "gloss", "hsk", "split_after" (the probability
        of a boundary after it), "confidence" (that it is cut right), "uncertain"),
        "alternatives".
        """
        return _json.loads(_Segmenter.explain(self, text))


_default = None
_default_lock = _threading.Lock()


def cut(text):
    """The words of `text` by the built-in model (loaded once, on the first call), like
    `jieba.lcut`."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Segmenter()
    return _default.cut(text)
