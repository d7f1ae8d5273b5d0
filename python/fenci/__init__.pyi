"""Type stubs of fenci's Python API."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Union

__all__ = ["Segmenter", "FenciError", "cut"]

class FenciError(Exception):
    """A model that cannot be loaded, or text fenci cannot segment; the message says why."""

class Segmenter:
    """A Chinese word segmenter.

    model: "default" (built in), a directory in the Hugging Face layout, or a hub id.
    user_dict: words always kept whole: a list, or the path of a file with one word a line.
    threads: batches cut_batch segments at once (default: all cores).
    """

    def __init__(
        self,
        model: str = "default",
        user_dict: Union[Sequence[str], str, PathLike[str], None] = None,
        threads: Optional[int] = None,
    ) -> None: ...
    @property
    def model(self) -> str:
        """The model, as it was named."""
    def cut(self, text: str) -> List[str]:
        """The words of `text` (its line breaks count as spaces)."""
    def cut_batch(self, texts: Sequence[str]) -> List[List[str]]:
        """The words of each text, in order; the GIL is released while fenci works."""
    def explain(self, text: str) -> Dict[str, Any]:
        """`text` (one line) explained: the record of `fenci segment --format jsonl`."""

def cut(text: str) -> List[str]:
    """The words of `text` by the built-in model, like `jieba.lcut`."""
