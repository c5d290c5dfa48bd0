"""Retrieval: embeddings, the per-course FAISS and BM25 indexes, and hybrid search over them."""
