"""Shared plumbing for every service: settings, logging, errors, auth, gRPC server/client, databases."""
