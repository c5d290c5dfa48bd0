"""Async pymongo client factory."""

from __future__ import annotations

from pymongo import AsyncMongoClient


def create_mongo_client(url: str, app_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        retryWrites=True,
        retryReads=True,
    )
