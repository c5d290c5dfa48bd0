"""Adapters of sme_svc to its stores (MongoDB)."""
