"""Text mechanics for questions and passages: normalising, tokens, a light stemmer, lexicon phrase
matching with clauses and negation, typo correction against a vocabulary, and sentence splitting.

Everything here is deterministic and language-light on purpose: patients write short questions
with lay words and typos, and the index is a few hundred passages, so small exact tools (a
suffix-stripping stemmer, an edit-distance corrector over the index vocabulary) do the job in
well under a millisecond per question and never invent a word that is not in the content.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_WORD = re.compile(r"\w+")
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]+|\s[-–—]\s|\b(?:but|however|although|though|whereas)\b")

#: Words that carry no meaning for retrieval (question words included: "what is" is a section cue
#: in the lexicon, not a search term).
STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not",
    "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over",
    "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
    "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "im", "ive", "id",
    "ill", "dont", "doesnt", "didnt", "cant", "cannot", "wont", "isnt", "arent", "wasnt", "werent",
    "havent", "hasnt", "hadnt", "shouldnt", "wouldnt", "couldnt", "also", "may", "might", "must", "shall",
    "get", "got", "go", "going", "gets", "thing", "things", "really", "much", "many", "lot", "lots",
    "please", "tell", "know", "want", "need", "like", "one", "ones", "yes", "ok", "okay", "hi", "hello",
    "thanks", "thank", "dear", "doctor", "question", "ask", "goes", "went", "gone", "come", "comes", "came"
})


def normalise(text: str) -> str:
    """Lower-case, apostrophes dropped ("can't" → "cant"), hyphens and punctuation to spaces,
    accents folded; clause punctuation kept so that :func:`clauses` can split on it."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = re.sub(r"(\w)'(\w)", r"\1\2", text).replace("'", " ")
    text = re.sub(r"(\w)[-/](\w)", r"\1 \2", text)
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)  # "600mg" -> "600 mg"
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^\w.,;:!?()\n]+", " ", text)


def words(text: str) -> list[str]:
    """Normalised word tokens of ``text``."""
    return _WORD.findall(normalise(text))


def clauses(text: str) -> list[list[str]]:
    """Normalised word tokens, clause by clause (split at punctuation and at but/however/although)."""
    out = []
    for part in _CLAUSE_BREAK.split(normalise(text)):
        toks = _WORD.findall(part or "")
        if toks:
            out.append(toks)
    return out


_SPELLING = (("ae", "e"), ("isation", "ization"), ("yse", "yze"), ("disk", "disc"))


def stem(token: str) -> str:
    """A light suffix-stripping stemmer (plural, -ing, -ed, -ly) with British/American folding
    (anaesthetic/anesthetic, paralyse/paralyze). Used identically on passages and questions."""
    t = token
    for a, b in _SPELLING:
        if a in t and len(t) > 4:
            t = t.replace(a, b)
    if len(t) <= 3 or t.isdigit():
        return t
    if t.endswith("ies") and len(t) > 4:
        t = t[:-3] + "y"
    elif t.endswith("sses"):
        t = t[:-2]
    elif t.endswith("s") and not t.endswith(("ss", "us", "is")):
        t = t[:-1]
    for suffix, keep in (("ing", 4), ("ed", 4), ("ly", 4)):
        if t.endswith(suffix) and len(t) - len(suffix) >= keep:
            t = t[: -len(suffix)]
            if len(t) > 3 and t[-1] == t[-2] and t[-1] not in "lsz":
                t = t[:-1]
            break
    if t.endswith("e") and len(t) > 4:
        t = t[:-1]
    return t


def content_terms(tokens: Iterable[str]) -> list[str]:
    """Stemmed tokens without stopwords: what BM25 indexes and searches."""
    return [stem(t) for t in tokens if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


# ------------------------------------------------------------------ phrases


@dataclass(frozen=True)
class Phrase:
    """One lexicon phrase, compiled: its words, each exact or a prefix (written ``word*``)."""

    text: str
    parts: tuple[tuple[str, bool], ...]  # (word, is_prefix)

    def matches_at(self, tokens: Sequence[str], i: int) -> bool:
        if i + len(self.parts) > len(tokens):
            return False
        for k, (word, prefix) in enumerate(self.parts):
            tok = tokens[i + k]
            if not (tok.startswith(word) if prefix else tok == word):
                return False
        return True


def compile_phrase(text: str) -> Phrase:
    parts = []
    for raw in text.strip().split():
        prefix = raw.endswith("*")
        ws = words(raw.rstrip("*"))
        for j, w in enumerate(ws):
            parts.append((w, prefix and j == len(ws) - 1))
    return Phrase(text, tuple(parts))


class PhraseSet:
    """Phrases indexed by their first word, so that matching a question costs a dictionary lookup
    per token rather than a scan of every phrase."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = [p for p in (compile_phrase(t) for t in phrases) if p.parts]
        self._exact: dict[str, list[Phrase]] = {}
        self._prefix: list[Phrase] = []
        for p in self.phrases:
            word, prefix = p.parts[0]
            if prefix:
                self._prefix.append(p)
            else:
                self._exact.setdefault(word, []).append(p)

    def find(self, tokens: Sequence[str]) -> list[tuple[int, int, Phrase]]:
        """Every (start, end, phrase) match in ``tokens``, longest first at each start."""
        out = []
        for i, tok in enumerate(tokens):
            cands = self._exact.get(tok, []) + [p for p in self._prefix if tok.startswith(p.parts[0][0])]
            for p in sorted(cands, key=lambda p: -len(p.parts)):
                if p.matches_at(tokens, i):
                    out.append((i, i + len(p.parts), p))
        return out

    def __bool__(self) -> bool:
        return bool(self.phrases)


#: Stands between two clauses joined for a combo match (no phrase matches it; negation stops at it).
CLAUSE_JOIN = "|"


def negated(tokens: Sequence[str], start: int, negations: PhraseSet, window: int = 3) -> bool:
    """True when a negation ends within ``window`` words before ``start`` ("no fever", "I don't
    have a fever"). ``tokens`` is one clause, so a negation never reaches across "but"."""
    lo = max(0, start - window - 3)
    for k in range(start - 1, lo - 1, -1):
        if tokens[k] == CLAUSE_JOIN:  # a negation never reaches across a clause boundary
            lo = k + 1
            break
    # the words between the end of a negation and the trigger: fewer than ``window``
    return any(start - (lo + e) < window for _s, e, _p in negations.find(tokens[lo:start]))


# ------------------------------------------------------------------ typo correction


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), or
    ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1:])
        out |= nxt
        frontier = nxt
    return out


class Corrector:
    """Fix a misspelt word to the nearest word of a known vocabulary (symmetric-delete lookup,
    then an exact edit distance): at most 1 edit for words of 4-7 letters, 2 from 8 letters; the
    first letter must agree; ties go to the more frequent word. Words shorter than 4 letters,
    numbers and words already in the vocabulary are left alone."""

    def __init__(self, frequencies: dict[str, int]) -> None:
        self.freq = {w: n for w, n in frequencies.items() if w.isalpha()}
        self._index: dict[str, list[str]] = {}
        for w in self.freq:
            if len(w) >= 3:
                for d in _deletes(w, 2 if len(w) >= 7 else 1):
                    self._index.setdefault(d, []).append(w)
        self._memo: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self.freq or len(word) < 4 or not word.isalpha():
            return word
        if word in self._memo:
            return self._memo[word]
        limit = 1 if len(word) <= 7 else 2
        seen: set[str] = set()
        best: tuple[int, int, str] | None = None
        for d in _deletes(word, limit):
            for cand in self._index.get(d, ()):
                if cand in seen or cand[0] != word[0]:
                    continue
                seen.add(cand)
                dist = edit_distance(word, cand, limit)
                if dist <= limit:
                    key = (dist, -self.freq[cand], cand)
                    if best is None or key < best:
                        best = key
        out = best[2] if best else word
        if len(self._memo) < 50_000:
            self._memo[word] = out
        return out


# ------------------------------------------------------------------ sentences

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|vs|etc|approx|al|Dr|St|No|Fig|cf|min|max)\.|\b[A-Z]\.)$")
_SENT_END = re.compile(r"(?<=[.!?])[\"”)\]]*\s+(?=[\"“(\[]?[A-Z0-9])")
_MARKERS = re.compile(r"\s*\[(\d+)\]")


def sentences(text: str) -> list[str]:
    """Split an education text into sentences: list lines ("- ...") are sentences of their own, and
    abbreviations (e.g., i.e., vs.) do not end one."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        bullet = line.startswith(("- ", "• ", "* "))
        if bullet:
            line = line[2:].strip()
        start = 0
        for m in _SENT_END.finditer(line):
            head = line[start:m.start()]
            if _ABBREV.search(head.rstrip("\"”)] ")):
                continue
            out.append(head.strip())
            start = m.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return [s for s in out if any(c.isalnum() for c in s)]


def citation_markers(sentence: str) -> tuple[str, tuple[int, ...]]:
    """A clinician sentence without its ``[k]`` markers, and the marker numbers it carried."""
    numbers = tuple(int(n) for n in _MARKERS.findall(sentence))
    clean = _MARKERS.sub("", sentence)
    clean = re.sub(r"\s+([.,;:])", r"\1", clean)
    return clean.strip(), numbers
