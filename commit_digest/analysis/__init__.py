"""Per-commit analysis: fetch, budget, redact, LLM or heuristics, store, comment."""
