"""Which command a message asks for: a linear classifier over the words, word pairs and
character n-grams of the masked, folded text, trained at start-up from the phrasing the
commands declare and the corpus that ships in the repository.

The model is an averaged perceptron with a margin, updating every rival within the margin
(a close cousin of a multi-class linear SVM), trained
with NumPy in well under a second. Why not scikit-learn: on the held-out corpus its linear SVM
scored no better with the same features, and importing it (with SciPy) adds about 90 MB to
every replica. Training is deterministic (a fixed shuffle), so every replica and every run
reads the same text the same way.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EPOCHS = 6
# Update on every example not won by at least this margin (scores of unit-length inputs).
MARGIN = 1.0
# Softmax temperature that turns scores into probabilities; calibrated on the training part
# (bench/understanding.py prints how confident readings fare on the held-out part).
TEMPERATURE = 0.35
_SHUFFLE_SEED = 7


def features(text: str) -> list[str]:
    """Word unigrams and bigrams, the first four letters of longer words (German compounds
    and inflections share them), character 3–5-grams inside each word and 4-grams across
    word boundaries."""
    words = text.split()
    found = [f"w:{word}" for word in words]
    found += [f"b:{a}|{b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]
    found += [f"p:{word[:4]}" for word in words if len(word) > 4]
    for word in words:
        if word.startswith("_") and word.endswith("_"):
            continue  # a placeholder is one feature, not its letters
        padded = f" {word} "
        for size in (3, 4, 5):
            found += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    joined = f" {text} "
    found += [
        f"x:{joined[i : i + 4]}" for i in range(len(joined) - 3) if " " in joined[i + 1 : i + 3]
    ]
    return list(dict.fromkeys(found))  # presence, not counts


@dataclass(frozen=True, slots=True)
class Ranked:
    """One reading of a message and how likely it is."""

    intent: str
    probability: float


class LinearClassifier:
    """See the module docstring."""

    def __init__(self, examples: Iterable[tuple[str, str]]) -> None:
        data = list(examples)
        self.intents: tuple[str, ...] = tuple(sorted({intent for _, intent in data}))
        self._index = {intent: i for i, intent in enumerate(self.intents)}
        self._vocabulary: dict[str, int] = {}
        rows = [(self._encode(text, grow=True), self._index[intent]) for text, intent in data]
        self._weights = self._train(rows)

    def _encode(self, text: str, *, grow: bool = False) -> npt.NDArray[np.intp]:
        if grow:
            ids = {self._vocabulary.setdefault(f, len(self._vocabulary)) for f in features(text)}
        else:
            ids = {self._vocabulary[f] for f in features(text) if f in self._vocabulary}
        return np.array(sorted(ids), dtype=np.intp)

    def _train(self, rows: list[tuple[npt.NDArray[np.intp], int]]) -> npt.NDArray[np.float32]:
        weights = np.zeros((len(self._vocabulary), len(self.intents)))
        totals = np.zeros_like(weights)  # for averaging: Σ step × update
        # a fixed seed: the same model on every replica and run (not for anything secret)
        shuffle = random.Random(_SHUFFLE_SEED)  # noqa: S311
        order, step = list(range(len(rows))), 1
        for _ in range(EPOCHS):
            shuffle.shuffle(order)
            for i in order:
                ids, truth = rows[i]
                if len(ids):
                    self._update(weights, totals, ids, truth, step)
                step += 1
        # kept as float32: half the memory of every replica, the same ranking
        return (weights - totals / step).astype(np.float32)

    def _update(
        self,
        weights: npt.NDArray[np.float64],
        totals: npt.NDArray[np.float64],
        ids: npt.NDArray[np.intp],
        truth: int,
        step: int,
    ) -> None:
        """Move the true intent up and every rival within the margin down (shared equally)."""
        scale = 1 / math.sqrt(len(ids))
        scores = weights[ids].sum(axis=0) * scale
        wanted = scores[truth]
        scores[truth] = -math.inf
        rivals = np.flatnonzero(wanted - scores < MARGIN)
        if not len(rivals):
            return
        change = np.zeros(len(self.intents))
        change[rivals] = -scale / len(rivals)
        change[truth] = scale
        weights[ids] += change
        totals[ids] += step * change

    def rank(self, text: str) -> list[Ranked]:
        """Every intent with its probability, most likely first."""
        ids = self._encode(text)
        if not len(ids):
            return [Ranked(i, 1 / len(self.intents)) for i in self.intents]
        scores = self._weights[ids].sum(axis=0) / math.sqrt(len(ids))
        exps = np.exp((scores - scores.max()) / TEMPERATURE)
        probabilities = exps / exps.sum()
        ranked = [Ranked(i, float(p)) for i, p in zip(self.intents, probabilities, strict=True)]
        return sorted(ranked, key=lambda r: (-r.probability, r.intent))

    def weights_bytes(self) -> int:
        """The size of the trained weights (for the benchmark)."""
        return int(self._weights.nbytes)

    def known_words(self) -> Sequence[str]:
        """The words seen in training (for spelling repair)."""
        return [f[2:] for f in self._vocabulary if f.startswith("w:")]
