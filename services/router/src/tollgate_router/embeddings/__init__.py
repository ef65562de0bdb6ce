"""Embeddings: routed, held at billing and failed over as a generation is."""
