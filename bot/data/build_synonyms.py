"""Builds synonyms.tsv, the table bot.stories reads, from WordNet 3.0 with NLTK.

Not part of the bot: run it only to rebuild the table, on a machine with NLTK and its WordNet
corpus (`pip install nltk && python -m nltk.downloader wordnet`, or NLTK_DATA pointing at a copy):

    python bot/data/build_synonyms.py > bot/data/synonyms.tsv

Each noun WordNet knows, read as a single word, is filed under the head word of its commonest sense
(the sense WordNet lists first): "docker" and "stevedore" under stevedore, "quake" under
earthquake. Both sides are Snowball stems, as bot.stories compares words: where several nouns share
a stem, the one used most often in WordNet's tagged texts decides, then the shorter; a stem whose
words those texts use more often as verbs, adjectives or adverbs is left as it is ("even" is not
read as evening, nor "making" and so "make" as devising). A line is written only where the head's
stem differs from the word's own; a head filed under another word passes its words on.
"""

from __future__ import annotations

import re
from collections import Counter

import snowballstemmer
from nltk.corpus import wordnet

SINGLE_WORD = re.compile(r"[a-z]+")
OTHER_PARTS = (wordnet.VERB, wordnet.ADJ, wordnet.ADV)  # ADJ includes its satellites


def table() -> dict[str, str]:
    stem = snowballstemmer.stemmer("english").stemWord
    other_uses: Counter[str] = Counter()  # stem -> uses of its words as verbs, adjectives and adverbs
    for pos in OTHER_PARTS:
        for word in wordnet.all_lemma_names(pos=pos):
            other_uses[stem(word)] += sum(lemma.count() for lemma in wordnet.lemmas(word, pos=pos))
    noun_uses: Counter[str] = Counter()
    chosen: dict[str, tuple[int, int, str]] = {}  # word's stem -> (use count, -length, head's stem)
    for word in wordnet.all_lemma_names(pos=wordnet.NOUN):
        senses = wordnet.synsets(word, pos=wordnet.NOUN)
        if not SINGLE_WORD.fullmatch(word) or not senses:
            continue
        heads = [lemma.name() for lemma in senses[0].lemmas() if SINGLE_WORD.fullmatch(lemma.name())]
        uses = sum(lemma.count() for lemma in wordnet.lemmas(word, pos=wordnet.NOUN))
        key = stem(word)
        noun_uses[key] += uses
        entry = (uses, -len(word), stem(heads[0]) if heads else key)
        if key not in chosen or entry[:2] > chosen[key][:2]:
            chosen[key] = entry
    filed = {key: head for key, (_, _, head) in chosen.items() if head != key and noun_uses[key] >= other_uses[key]}
    return {key: read for key in filed if (read := _read_as(key, filed)) != key}


def _read_as(key: str, filed: dict[str, str]) -> str:
    """Where a head is itself filed under another word ("asylum" under refuge, refuge under
    safety), the end of the chain, so that a word always meets its head; the first in order
    where a chain comes back on itself."""
    chain = [key]
    while chain[-1] in filed and filed[chain[-1]] not in chain:
        chain.append(filed[chain[-1]])
    if chain[-1] in filed:
        return min(chain[chain.index(filed[chain[-1]]):])
    return chain[-1]


if __name__ == "__main__":
    print("# word stem<TAB>stem of its commonest WordNet sense's head word; built by build_synonyms.py")
    for key, head in sorted(table().items()):
        print(f"{key}\t{head}")
