"""Ingestion: parse course files into sections, chunk them, embed and store the chunks."""
