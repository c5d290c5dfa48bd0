"""Blob storage of course files on a local (or mounted) file system.

Layout: `<root>/<course_id>/<file_id>`. Names are always server-chosen ids, never the uploader's file name,
and every path is checked to resolve inside the root. An upload is written to a temp file in the course's
directory and becomes visible only by an fsync + atomic rename; an aborted upload leaves nothing behind.
All file-system work runs in worker threads, never on the event loop.

A crash between a blob's commit and the insert of its file record leaves an orphan blob; `course_ids`,
`blobs_older_than` and `remove_if_older` let the owner of the records sweep those. They never follow a
symlink (directories are opened with O_NOFOLLOW and worked on through their descriptor) and only ever
touch regular files with id-shaped names directly inside a course directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class UnsafePath(Exception):
    pass


class StagedBlob:
    """A temp file being written; `commit` moves it to its final name."""

    def __init__(self, directory: Path, handle, path: Path) -> None:
        self._directory = directory
        self._handle = handle
        self.path = path
        self.size = 0
        self._hash = hashlib.sha256()
        self.committed: Path | None = None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def write(self, data: bytes) -> None:
        def write() -> None:
            self._handle.write(data)
            self._hash.update(data)

        await asyncio.to_thread(write)
        self.size += len(data)

    async def read_all(self) -> bytes:
        def read() -> bytes:
            self._handle.flush()
            return self.path.read_bytes()

        return await asyncio.to_thread(read)

    async def commit(self, final: Path) -> None:
        def commit() -> None:
            self._handle.flush()
            # The blob's mtime becomes its commit time, which the orphan sweep's grace period counts from
            # (the last write can be much earlier: verification may wait for a free slot).
            os.utime(self._handle.fileno())
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self.path, final)
            _fsync_dir(self._directory)

        await asyncio.to_thread(commit)
        self.committed = final

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def _finish(clean_up) -> None:
    """Run a clean-up in a worker thread to its end, even when the awaiting task is cancelled (again): an
    aborted upload is often cancelled more than once, and a cancelled `asyncio.to_thread` whose job has
    not started yet never runs it, which would leave the temp file or blob behind."""
    await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, clean_up))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if resolved == self.root or not resolved.is_relative_to(self.root):
            raise UnsafePath(str(path))
        return resolved

    def course_dir(self, course_id: str) -> Path:
        if not _NAME.match(course_id):
            raise UnsafePath(course_id)
        return self._inside(self.root / course_id)

    def path(self, course_id: str, file_id: str) -> Path:
        if not _NAME.match(file_id):
            raise UnsafePath(file_id)
        directory = self.course_dir(course_id)
        path = self._inside(directory / file_id)
        if path.parent != directory:
            raise UnsafePath(file_id)
        return path

    @asynccontextmanager
    async def staging(self, course_id: str) -> AsyncIterator[StagedBlob]:
        """A temp file in the course's directory, removed on exit unless committed."""
        directory = self.course_dir(course_id)
        temp = self._inside(directory / f".upload-{uuid.uuid4().hex}.part")

        def open_temp():
            directory.mkdir(parents=True, exist_ok=True)
            return open(temp, "xb")  # noqa: SIM115 - closed by StagedBlob

        staged = StagedBlob(directory, await asyncio.to_thread(open_temp), temp)
        try:
            yield staged
        finally:
            if staged.committed is None:
                await _finish(staged.discard)

    async def read(self, course_id: str, file_id: str, chunk_size: int) -> AsyncIterator[bytes]:
        path = self.path(course_id, file_id)
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def exists(self, course_id: str, file_id: str) -> bool:
        return await asyncio.to_thread(self.path(course_id, file_id).is_file)

    async def delete(self, course_id: str, file_id: str) -> None:
        path = self.path(course_id, file_id)

        def remove() -> None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

        await _finish(remove)

    async def delete_course(self, course_id: str) -> None:
        directory = self.course_dir(course_id)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    # orphan sweep

    async def course_ids(self) -> list[str]:
        """The course directories (real ones: a symlink in the root is not a course directory)."""

        def scan() -> list[str]:
            try:
                with os.scandir(self.root) as entries:
                    return [
                        e.name for e in entries if _NAME.match(e.name) and e.is_dir(follow_symlinks=False)
                    ]
            except FileNotFoundError:  # nothing uploaded yet
                return []

        return await asyncio.to_thread(scan)

    async def blobs_older_than(self, course_id: str, cutoff: float) -> list[str]:
        """Ids of the course's blobs last modified before `cutoff` (epoch seconds). Temp files of uploads
        in progress, symlinks and anything else in the directory are left out."""

        def scan() -> list[str]:
            with self._course_dir_fd(course_id) as fd:
                if fd is None:
                    return []
                with os.scandir(fd) as entries:
                    return [e.name for e in entries if _NAME.match(e.name) and _regular_before(e, cutoff)]

        return await asyncio.to_thread(scan)

    async def remove_if_older(self, course_id: str, file_id: str, cutoff: float) -> bool:
        """Delete the blob if it is still a regular file last modified before `cutoff`; True if it did."""
        if not _NAME.match(file_id):
            raise UnsafePath(file_id)

        def remove() -> bool:
            with self._course_dir_fd(course_id) as fd:
                if fd is None:
                    return False
                try:
                    info = os.stat(file_id, dir_fd=fd, follow_symlinks=False)
                    if not stat.S_ISREG(info.st_mode) or info.st_mtime >= cutoff:
                        return False
                    os.unlink(file_id, dir_fd=fd)
                except FileNotFoundError:
                    return False
                return True

        return await asyncio.to_thread(remove)

    @contextlib.contextmanager
    def _course_dir_fd(self, course_id: str) -> Iterator[int | None]:
        """A descriptor of the course's directory, or None when there is no such real directory. Opened
        without following a symlink; names are then resolved against the descriptor, so the work stays
        inside this directory whatever is renamed or linked meanwhile."""
        if not _NAME.match(course_id):
            raise UnsafePath(course_id)
        try:
            fd = os.open(self.root / course_id, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            fd = None
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: a symlink in the directory's place
                raise
            fd = None
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)


def _regular_before(entry: os.DirEntry, cutoff: float) -> bool:
    try:
        return entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff
    except FileNotFoundError:  # removed meanwhile
        return False
