"""Speed benchmarks: synthetic corpora, kb against SQLite FTS5 on the same texts and queries."""
