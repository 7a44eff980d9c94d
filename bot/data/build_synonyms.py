"""Builds synonyms.tsv, the table bot.stories reads, from WordNet 3.0 with NLTK.

The bot never runs it: run it only to rebuild the table, on a machine with NLTK and its WordNet
corpus (`pip install nltk && python -m nltk.downloader wordnet`, or NLTK_DATA pointing at a copy):

    python bot/data/build_synonyms.py > bot/data/synonyms.tsv

Nouns whose commonest sense (the one WordNet lists first) is the same are one word: "docker" and
"stevedore" are both read as sense:stevedore.n.01, "quake" and "earthquake" as
sense:earthquake.n.01. Only the commonest sense counts, so "trial" and "test", which share a rarer
one, stay apart. Keys are Snowball stems, as bot.stories compares words; where several nouns share
a stem, the shortest decides ("market", not "marketing"), then the one WordNet's tagged texts use
most. Left out: a stem whose words those texts use more often as verbs, adjectives or adverbs
("even" is not read as evening), stems of three letters or fewer (mostly abbreviations, whose
commonest sense is seldom the news's: "pm" is no autopsy), and senses no other stem shares.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections import Counter, defaultdict

import snowballstemmer
from nltk.corpus import wordnet

SINGLE_WORD = re.compile(r"[a-z]+")
OTHER_PARTS = (wordnet.VERB, wordnet.ADJ, wordnet.ADV)  # ADJ includes its satellites
MIN_LENGTH = 3


def table() -> dict[str, str]:
    stem = snowballstemmer.stemmer("english").stemWord
    other_uses: Counter[str] = Counter()  # stem -> uses of its words as verbs, adjectives and adverbs
    for pos in OTHER_PARTS:
        for word in wordnet.all_lemma_names(pos=pos):
            other_uses[stem(word)] += sum(lemma.count() for lemma in wordnet.lemmas(word, pos=pos))
    noun_uses: Counter[str] = Counter()
    chosen: dict[str, tuple[int, int, str]] = {}  # stem -> (-length, use count, commonest sense) of its noun
    for word in wordnet.all_lemma_names(pos=wordnet.NOUN):
        senses = wordnet.synsets(word, pos=wordnet.NOUN)
        if not SINGLE_WORD.fullmatch(word) or not senses:
            continue
        uses = sum(lemma.count() for lemma in wordnet.lemmas(word, pos=wordnet.NOUN))
        key = stem(word)
        noun_uses[key] += uses
        entry = (-len(word), uses, senses[0].name())
        if key not in chosen or entry[:2] > chosen[key][:2]:
            chosen[key] = entry
    sharing: defaultdict[str, list[str]] = defaultdict(list)  # sense -> the stems read as it
    for key, (_, _, sense) in chosen.items():
        if len(key) > MIN_LENGTH and noun_uses[key] >= other_uses[key]:
            sharing[sense].append(key)
    return {key: "sense:" + sense for sense, keys in sharing.items() if len(keys) > 1 for key in keys}


if __name__ == "__main__":
    print("# word stem<TAB>its commonest WordNet noun sense, where another stem shares it; built by"
          f" build_synonyms.py with snowballstemmer {importlib.metadata.version('snowballstemmer')}")
    for key, sense in sorted(table().items()):
        print(f"{key}\t{sense}")
