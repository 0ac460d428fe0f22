"""On-disk layout of an index: immutable generations, a manifest with checksums, atomic switch-over.

    <index dir>/
      CURRENT              name of the live generation (replaced atomically)
      .lock                flock held by the one process that updates the index
      gen-<n>-<hex>/       one complete index: manifest.json + the files it lists with size and sha256
      tmp-<hex>/           a generation being written (ignored and removed if a writer died)

A generation is written into `tmp-*`, every file fsynced, the directory renamed to `gen-*`, then
CURRENT is replaced. Readers resolve CURRENT once and read only that generation, so they see the old
index or the new one, whole. Nothing is pickled: JSON, SQLite and `.npy` (allow_pickle=False).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.errors import IndexStoreError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
LOCK = ".lock"
CRASH_AT_ENV = "QA_TEST_CRASH_AT"
PUBLISH_WORKERS = 4  # files fsynced and checksummed at once when a generation is published
SEAL_WORKERS = 2  # files fsynced and checksummed at once while the rest of the generation is written


def crash_point(name: str) -> None:
    """Fault injection for tests: with QA_TEST_CRASH_AT=<name> the process SIGKILLs itself here."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def default_state_dir() -> Path:
    """Where indexes live: $QA_HOME, else the user's cache directory."""
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("corpus-qa", appauthor=False))


def default_index_dir(corpus_root: Path) -> Path:
    """The per-corpus index directory: $QA_INDEX_DIR, else <state dir>/indexes/<name>-<path hash>."""
    explicit = os.environ.get("QA_INDEX_DIR")
    if explicit:
        return Path(explicit).expanduser()
    digest = hashlib.sha256(str(corpus_root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    safe_name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in corpus_root.name)[:40] or "corpus"
    return default_state_dir() / "indexes" / f"{safe_name}-{digest}"


def sha256_file(path: Path, stop: threading.Event | None = None) -> str:
    """The file's SHA-256; with `stop`, gives up (`InterruptedError`) once it is set."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                raise InterruptedError(f"checksum of {path.name} stopped")
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _synced_checksum(path: Path, stop: threading.Event | None = None) -> tuple[os.stat_result, str]:
    """The file's stat and SHA-256 once it is on disk."""
    _fsync_file(path)
    return path.stat(), sha256_file(path, stop)


Signatures = dict[str, list[int]]  # file name -> [size, mtime_ns, inode, ctime_ns (0 for a shareable file)]


@dataclass(frozen=True)
class Generation:
    """A complete, verified generation directory and its manifest.

    `checked` is True when these very files (same size, mtime, inode and ctime, manifest included) passed
    their checksums and the loader's content checks before (the `verified-*` stamp): a loader may then
    skip checks that would read whole files. `signatures` are the files' signatures taken when their
    checksums were computed, for `record_checked`."""

    path: Path
    manifest: dict[str, Any]
    checked: bool = field(default=False, compare=False)
    signatures: Signatures | None = field(default=None, compare=False, repr=False)

    def file(self, name: str) -> Path:
        return self.path / name

    def record_checked(self) -> None:
        """Remember that the files passed their checksums and the content checks: later loads skip both
        until any file (or the manifest) changes. Call it only once the content checks have passed."""
        if not self.checked and self.signatures is not None:
            _write_stamp(self.path.parent, self.path.name, self.signatures)

    def load_array(self, name: str, mmap: bool = True) -> npt.NDArray[Any]:
        try:
            array: npt.NDArray[Any] = np.load(self.file(name), mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"index file {name} is unreadable: {exc}") from None
        return array


class GenerationWriter:
    """Collects the files of a new generation in a temporary directory, then publishes them."""

    def __init__(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        self.index_dir = index_dir
        self.path = index_dir / f"tmp-{secrets.token_hex(6)}"
        self.path.mkdir()
        self._linked: dict[str, dict[str, Any]] = {}  # file name -> its manifest entry in the generation linked from
        self._shareable: set[str] = set()  # files a later generation may link (`mark_shareable`)
        self._sealer: ThreadPoolExecutor | None = None
        self._stop_checksums = threading.Event()  # set by `abort`: checksums under way give up
        self._sealed: dict[str, Future[tuple[os.stat_result, str]]] = {}  # file name -> its stat and SHA-256

    def seal(self, *names: str) -> None:
        """Files `names` are complete: fsync and checksum them now, on other threads, while the rest of the
        generation is written (at a million passages the generation's new files are ~3 GB). `publish` uses
        these checksums for the files whose size, mtime, inode and ctime have not changed since, and
        checksums again any that has changed; `abort` stops them."""
        if self._sealer is None:
            self._sealer = ThreadPoolExecutor(SEAL_WORKERS, thread_name_prefix="seal")
        for name in names:
            if name not in self._linked and name not in self._sealed:
                self._sealed[name] = self._sealer.submit(_synced_checksum, self.path / name, self._stop_checksums)

    def _sealed_checksums(self) -> dict[str, tuple[os.stat_result, str]]:
        """The sealed files' (stat, SHA-256), for those unchanged since they were checksummed."""
        sealed, futures = {}, self._sealed
        self._sealed = {}
        try:
            for name, future in futures.items():
                try:
                    stat, digest = future.result()
                    now = (self.path / name).stat()
                except OSError:
                    continue  # checksummed again by `publish`, which reports what is wrong
                if _unchanged(now, stat):
                    sealed[name] = (now, digest)
        finally:
            self._stop_sealing()
        return sealed

    def _stop_sealing(self) -> None:
        if self._sealer is not None:
            self._sealer.shutdown(wait=True, cancel_futures=True)
            self._sealer = None

    def mark_shareable(self, name: str) -> None:
        """File `name` may become a later generation's by hard link. Linking and unlinking its other names
        change its ctime, so its signature (the "verified" stamp) leaves ctime out: a write still changes
        its mtime, and its content is still checksummed whenever the stamp does not match."""
        self._shareable.add(name)

    def link(self, previous: Generation, name: str) -> None:
        """Make file `name` of `previous` a file of this generation too, without copying it: a hard link
        (published files are never written again). Its checksum is the previous manifest's; it is not
        read, hashed or synced again."""
        facts = previous.manifest["files"][name]
        os.link(previous.file(name), self.path / name)
        self._linked[name] = {"size": int(facts["size"]), "sha256": str(facts["sha256"]), "shareable": True}
        self._shareable.add(name)

    def unlink(self, name: str) -> None:
        """Remove file `name` from the generation being written (linked or not), if it is there."""
        self._linked.pop(name, None)
        self._shareable.discard(name)
        if (sealed := self._sealed.pop(name, None)) is not None:
            sealed.cancel()
        with contextlib.suppress(FileNotFoundError):
            (self.path / name).unlink()

    def save_array(self, name: str, array: npt.NDArray[Any]) -> None:
        """A new `.npy` file of the generation, complete when this returns (and sealed: `seal`)."""
        with open(self.path / name, "wb") as handle:
            np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        self.seal(name)

    def create_array(self, name: str, length: int, dtype: npt.DTypeLike) -> np.memmap[Any, Any]:
        """A new one-dimensional `.npy` file of the generation, memory-mapped for writing in place (the
        caller fills it and calls `flush()`; `publish` fsyncs and checksums it like every other file).

        The file's blocks are allocated up front, so a full disk is an `OSError` here rather than a
        SIGBUS when a page of the mapping is first written."""
        path = self.path / name
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=(length,))
        with open(path, "rb+") as handle:
            os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        return array

    def stream_array(self, name: str, length: int, dtype: npt.DTypeLike, blocks: Iterable[npt.NDArray[Any]]) -> None:
        """A new one-dimensional `.npy` file of the generation written from consecutive `blocks` with plain
        writes (no mapping: nothing written stays in the process's resident memory)."""
        kind = np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(kind), "fortran_order": False, "shape": (length,)}
        written = 0
        with open(self.path / name, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            for block in blocks:
                np.ascontiguousarray(block, dtype=kind).tofile(handle)
                written += len(block)
        if written != length:
            raise ValueError(f"{name}: {written} elements written for {length}")
        self.seal(name)

    def abort(self) -> None:
        self._stop_checksums.set()
        self._sealed.clear()
        self._stop_sealing()
        shutil.rmtree(self.path, ignore_errors=True)

    def publish(self, manifest: dict[str, Any]) -> Generation:
        """Checksum every file into the manifest, fsync, rename into place, switch CURRENT."""
        files, signatures = {}, {}
        checksums = self._sealed_checksums()
        items = sorted(item for item in self.path.iterdir() if item.name not in self._linked)
        # fsync and checksum the other files side by side: both wait on the disk or hash outside the GIL
        todo = [item for item in items if item.name not in checksums]
        with ThreadPoolExecutor(PUBLISH_WORKERS, thread_name_prefix="publish") as workers:
            checksums.update(zip((item.name for item in todo), workers.map(_synced_checksum, todo), strict=True))
        for item in items:
            stat, digest = checksums[item.name]
            shareable = item.name in self._shareable
            signatures[item.name] = _signature(stat, shareable)
            files[item.name] = {"size": stat.st_size, "sha256": digest} | ({"shareable": True} if shareable else {})
        for name, facts in self._linked.items():  # on disk already: synced and checksummed when first written
            stat = (self.path / name).stat()
            if stat.st_size != facts["size"]:
                raise IndexStoreError(f"index file {name} changed while it was shared")
            signatures[name] = _signature(stat, shareable=True)
            files[name] = dict(facts)
        manifest = dict(manifest, format_version=FORMAT_VERSION, files=files)
        manifest_path = self.path / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        _fsync_file(manifest_path)
        signatures[MANIFEST] = _signature(manifest_path.stat())
        _fsync_dir(self.path)
        crash_point("before-rename")
        number = _next_generation_number(self.index_dir)
        final = self.index_dir / f"gen-{number:06d}-{secrets.token_hex(4)}"
        os.rename(self.path, final)
        _fsync_dir(self.index_dir)
        crash_point("after-rename")
        pointer = self.index_dir / f"{CURRENT}.{secrets.token_hex(4)}.tmp"
        pointer.write_text(final.name + "\n", encoding="utf-8")
        _fsync_file(pointer)
        crash_point("before-switch")
        os.replace(pointer, self.index_dir / CURRENT)
        _fsync_dir(self.index_dir)
        crash_point("after-switch")
        _collect_garbage(self.index_dir, keep={final.name})
        return Generation(final, manifest, signatures=signatures)


def _unchanged(now: os.stat_result, then: os.stat_result) -> bool:
    """Same size, mtime, inode and ctime: the file was not written, replaced or relinked in between."""
    return (now.st_size, now.st_mtime_ns, now.st_ino, now.st_ctime_ns) == (
        then.st_size,
        then.st_mtime_ns,
        then.st_ino,
        then.st_ctime_ns,
    )


def _signature(stat: os.stat_result, shareable: bool = False) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino, 0 if shareable else stat.st_ctime_ns]


def _next_generation_number(index_dir: Path) -> int:
    numbers = [0]
    for item in index_dir.glob("gen-*"):
        parts = item.name.split("-")
        if len(parts) >= 2 and parts[1].isdigit():
            numbers.append(int(parts[1]))
    return max(numbers) + 1


def _collect_garbage(index_dir: Path, keep: set[str]) -> None:
    """Remove dead temporary directories and all but the newest two generations."""
    generations = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    for old in generations[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob("tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(f"{CURRENT}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    alive = {p.name for p in index_dir.glob("gen-*")}
    for stamp in index_dir.glob("verified-*"):
        if stamp.name.removeprefix("verified-").split(".json")[0] not in alive or stamp.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                stamp.unlink()


def current_generation(index_dir: Path, verify: bool = True) -> Generation | None:
    """The live generation, verified against its manifest; None when there is no index yet.

    Raises IndexStoreError when an index exists but is damaged (missing, truncated or altered files,
    unreadable manifest, unknown format version).
    """
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexStoreError(f"index pointer {pointer} is unreadable: {exc}") from None
    if not name.startswith("gen-") or "/" in name or name in (".", ".."):
        raise IndexStoreError(f"index pointer {pointer} is damaged")
    path = index_dir / name
    try:
        with open(path / MANIFEST, "rb") as handle:
            manifest_signature = _signature(os.fstat(handle.fileno()))  # of the bytes read here
            manifest = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStoreError(f"index manifest in {path} is missing or damaged: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexStoreError(f"index format {found!r} is not the supported format {FORMAT_VERSION}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexStoreError(f"index manifest in {path} lists no files")
    signatures: Signatures = {MANIFEST: manifest_signature}
    for file_name, facts in sorted(files.items()):
        file_path = path / file_name
        if "/" in file_name or not file_path.is_file() or not isinstance(facts, dict):
            raise IndexStoreError(f"index file {file_name} is missing")
        try:  # a concurrent updater may remove an old generation while it is being verified
            stat = file_path.stat()
        except OSError as exc:
            raise IndexStoreError(f"index file {file_name} is unreadable: {exc.strerror or exc}") from None
        if stat.st_size != facts.get("size"):
            raise IndexStoreError(f"index file {file_name} has the wrong size (truncated or altered)")
        signatures[file_name] = _signature(stat, facts.get("shareable") is True)
    if not verify:
        return Generation(path, manifest)
    if _stamp_matches(index_dir, name, signatures):
        return Generation(path, manifest, checked=True, signatures=signatures)
    for file_name, facts in sorted(files.items()):
        try:
            digest = sha256_file(path / file_name)
        except OSError as exc:
            raise IndexStoreError(f"index file {file_name} is unreadable: {exc.strerror or exc}") from None
        if digest != facts.get("sha256"):
            raise IndexStoreError(f"index file {file_name} fails its checksum (damaged)")
    return Generation(path, manifest, signatures=signatures)


def _stamp_path(index_dir: Path, generation: str) -> Path:
    return index_dir / f"verified-{generation}.json"


def _stamp_matches(index_dir: Path, generation: str, signatures: Signatures) -> bool:
    """True when every file (the manifest too) still has the exact size, mtime, inode and ctime it had
    when its checksum and content were last verified. Any write to a file (or replacing it) changes
    these, so hashing gigabytes and scanning every posting on every load is only needed after a change."""
    try:
        stamp = json.loads(_stamp_path(index_dir, generation).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp == signatures


def _write_stamp(index_dir: Path, generation: str, signatures: Signatures) -> None:
    target = _stamp_path(index_dir, generation)
    temporary = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_text(json.dumps(signatures), encoding="utf-8")
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()  # a read-only index dir still works; it is just verified every time


@contextlib.contextmanager
def write_errors_reported(index_dir: Path) -> Iterator[None]:
    """Turn an OS error while updating the index (disk full, read-only or damaged folder) into one clear
    `IndexStoreError`; the writer has already removed its temporary generation, the old one stays live."""
    try:
        yield
    except OSError as exc:
        raise IndexStoreError(
            f"cannot write the index in {index_dir}: {exc.strerror or exc}"
            " (choose another place with --index-dir or QA_HOME)"
        ) from None


@contextlib.contextmanager
def update_lock(index_dir: Path, on_wait: Callable[[str], None], timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the index's update lock; tell the user once if another process holds it, give up after a while."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"another process is updating the index in {index_dir}; waiting for it")
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexStoreError(
                            f"gave up after {timeout_s:.0f} s waiting for another process updating {index_dir}"
                        ) from None
                    time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
