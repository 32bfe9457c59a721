// Package search is vigil's full-text index: Russian and English words,
// names across scripts, filters and facets, all in memory.
//
// Build an [Index] with [New] when the vault unseals, [Index.Add] every
// record's [Document], keep it current with Add and [Index.Remove] on every
// write, and call [Index.Drop] on seal. [Index.Search] takes a [Query]
// whose Visible function says which incidents the principal may see:
// documents of other incidents are left out before anything is counted, so
// they show in no hit, snippet, total or facet, and BM25's statistics are
// computed over the visible incidents only, so that no score moves when a
// hidden document is added (TestRestriction, TestRestrictedStatistics).
// Fields marked [Field.Private] (a person's names) exist only for queries
// with [Query.SeePrivate] (TestPrivateFields).
//
// The package does no I/O (TestDependencies forbids os, net/http and
// database/sql): nothing of the index touches the disk.
//
// # Analysis
//
// [Analyze] splits text at Unicode word boundaries (UAX #29 for alphabetic
// scripts: runs of letters, digits and marks, apostrophes inside words),
// lowercases, folds ё to е and drops stress marks, then stems Cyrillic
// words with Snowball Russian and others with Snowball English (Porter2),
// from github.com/kljensen/snowball. TestSnowballVocabulary checks both
// against a sample of the official Snowball vocabularies (testdata).
//
// # Queries
//
// A query is words, "quoted phrases" and prefixes (word*); a document must
// match all of them, except stop words (in, the, в, и) when the query has
// other words, since a document in the other language lacks them. A
// prefix matches words as written (кадыр* finds Кадырова); a Latin prefix
// is also read as Russian (kadyr* finds Кадырова). A word matches its own stem (weight 1), every word
// with the same name key (0.8, see [NameKey]) and every word whose name key
// is within [Distance] 1 (keys of 5 to 7 letters) or 2 (8 and more) and
// starts with the same letter (0.5). Hits are ranked by BM25 (k1 1.2,
// b 0.75) over all fields of a document.
//
// # Names across scripts
//
// [NameKey] reads a Latin word as Russian (BGN/PCGN, GOST 7.79 B, ICAO 9303,
// ISO 9 and informal spellings: Kadyrov, Kadirov, Qadyrov; Zh/J; Kh/H;
// Ts/C; Yu/Iu/Ju; Ya/Ia/Ja; ё as yo or e; й as y, i or j), takes off the
// endings of Russian names and folds the letters the systems confuse.
// Кадыров, Кадырова, Kadyrov, Kadirov and Qadyrov share the key "кадиров".
// Every word of every field has a key, so names are found in free text as
// well as in name fields. TestNamePairs is the table of real pairs.
//
// # Memory
//
// Document texts are kept by reference (Go strings share their bytes), not
// copied. Postings are varint-encoded deltas of compact document numbers,
// frequencies and positions. Removed documents are skipped and compacted
// away once they are a quarter of the index.
package search
