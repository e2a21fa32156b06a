"""The run's output folder: staged, committed whole or not at all, and never reaching outside itself.

:func:`staged_dir` is the one owner of an output folder. Every file a run writes goes to a
hidden staging folder inside it; only when all of them are written are they put in place,
all or nothing:

- before anything moves, every place a file or folder goes is checked (a file where a
  folder should be, a link, a folder where a file should be: the run stops, nothing moved);
- each file the run replaces is first moved into the staging folder, so that a failure
  part-way (a folder that cannot be written, a full disk) puts every earlier file back;
- the last run's files that this run does not write are removed only when the run can
  prove it wrote them (:func:`previous_outputs`: listed in :data:`MANIFEST` with their
  SHA-256, a regular file of a name of the kinds a run writes, not reached through a link,
  inside the folder, and unchanged since);
- staging folders left by a run that was killed (SIGKILL, a power cut) are removed by the
  next run into the same folder, when their name and marker file say they are gradient's
  and the process that made them is gone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from .._files import write_atomic
from .._hold import hold
from ..errors import OutputError

MANIFEST = ".gradient-outputs"
"""The file in an output folder that lists the files the last run wrote there, with their SHA-256.

A rerun removes the files it lists that the new run does not write, when they are still
exactly as that run wrote them; files gradient did not write are never touched."""

STAGING_PREFIX = ".gradient-staging-"
"""The name of a staging folder: this, then eight letters, digits or underscores."""

STAGING_MARKER = ".gradient-staging"
"""The marker file in every staging folder: what it is, and the process that made it."""

_STAGING_NAME = re.compile(r"^\.gradient-staging-[A-Za-z0-9_]{8}$")
_MARKER_TEXT = re.compile(r"^gradient staging folder\npid=(\d{1,10})\n$")
_HEADER = "# gradient outputs: the SHA-256 and path of each file the last run wrote here\n"
_LINE = re.compile(r"^([0-9a-f]{64})  ([^\x00-\x1f\x7f]+)$")
_STEM = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}"
OUTPUT_NAMES = re.compile(
    rf"^(?:(?:stops|patterns|stretches)\.csv|methods\.md"
    rf"|maps/{_STEM}\.(?:html|iframe\.html|alt\.txt)"
    rf"|profiles/{_STEM}\.(?:png|svg|portrait\.png|alt\.txt)"
    rf"|print/{_STEM}\.(?:png|svg|pdf|page\.pdf|alt\.txt))$"
)
"""The names of the files a run writes (relative to the output folder): only these are ever removed."""

MAX_MANIFEST_BYTES = 16 * 2**20
"""A manifest larger than this is taken as damaged (nothing known)."""


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Write a set of files into a hidden staging folder, then put them in ``out_dir`` all at once.

    If anything fails (or the run is interrupted) before the block ends, the staging
    folder is removed and ``out_dir`` is left as it was: never a new ``stops.csv``
    beside an old ``patterns.csv``, never a partial file; and folders made for the
    run (``out_dir`` and any parents it lacked) are removed again. When the block
    ends, the files are put in place all or nothing (see the module's notes); SIGINT,
    SIGTERM and SIGHUP wait until that is done.

    Yields
    ------
    pathlib.Path
        The folder to write the files into, with the layout they should have in
        ``out_dir``.

    Raises
    ------
    OutputError
        If a file or link stands where the outputs need a folder, a folder where they
        need a file, or a folder cannot be written; ``out_dir`` is then as it was.
    OSError
        If writing fails (e.g. the disk is full); ``filename`` names the file in
        ``out_dir`` that was being written.
    """
    out = Path(out_dir)
    created = [p for p in [out, *out.parents] if not os.path.lexists(p)][::-1]  # outermost first
    out.mkdir(parents=True, exist_ok=True)
    done = False
    try:
        remove_stale_staging(out)
        stage = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
        keep_stage = False
        try:
            (stage / STAGING_MARKER).write_text(f"gradient staging folder\npid={os.getpid()}\n", encoding="utf-8")
            files = stage / "files"
            files.mkdir()
            try:
                yield files
            except OSError as exc:
                raise _named(exc, files, out) from exc
            hold("commit")
            with _signals_held():
                try:
                    _commit(files, stage / "replaced", out)
                except OutputError as exc:
                    # a staging folder holding earlier files that could not be put back is never removed
                    keep_stage = getattr(exc, "earlier_files", None) is not None
                    if keep_stage:
                        (stage / STAGING_MARKER).unlink(missing_ok=True)
                    raise
            done = True
        finally:
            if not keep_stage:
                shutil.rmtree(stage, ignore_errors=True)
    finally:
        if not done:
            for folder in reversed(created):
                try:
                    folder.rmdir()  # only if empty: never what someone else put there
                except OSError:
                    break


def _named(exc: OSError, files: Path, out: Path) -> OSError:
    """``exc`` naming the file in ``out`` that was being written (not its staging copy, nor none)."""
    name = exc.filename
    if name:
        try:
            rel = Path(name).relative_to(files)
        except ValueError:
            return exc
        return type(exc)(exc.errno, exc.strerror or str(exc), str(out / rel))
    return type(exc)(exc.errno, exc.strerror or str(exc), str(out))


def _commit(files: Path, replaced: Path, out: Path) -> None:
    """Put the staged files in place, all or nothing; remove the last run's proven others; list the new.

    Raises
    ------
    OutputError
        With ``earlier_files`` (the folder that holds them), if a failed commit could not
        put every earlier file back.
    """
    new = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    digests = {rel: _sha256(files / rel) for rel in new}
    stale = sorted(set(previous_outputs(out)) - set(new))
    _preflight(out, new)
    journal: list[tuple[str, Path, Path | None]] = []
    try:
        for rel in new:
            target = out / rel
            for folder in _missing_folders(out, target.parent):
                folder.mkdir()
                journal.append(("made", folder, None))
            _set_aside(target, replaced / rel, journal)
            _move(files / rel, target, target)
            journal.append(("placed", target, None))
        for rel in stale:
            _set_aside(out / rel, replaced / rel, journal)
        _set_aside(out / MANIFEST, replaced / MANIFEST, journal)
        body = "".join(f"{digests[rel]}  {rel}\n" for rel in new)
        write_atomic(out / MANIFEST, _HEADER + body)
        journal.append(("placed", out / MANIFEST, None))
    except BaseException:
        if not _roll_back(journal):
            error = OutputError(
                f"the outputs could not be put in place, nor every earlier file put back; the earlier files are "
                f"in {replaced}",
                out,
            )
            error.earlier_files = replaced  # type: ignore[attr-defined]
            raise error from None
        raise
    for name in ("maps", "profiles", "print"):  # emptied by the removal of stale files
        where = out / name
        if where.is_dir() and not where.is_symlink():
            try:
                where.rmdir()
            except OSError:
                pass


def _set_aside(target: Path, keep: Path, journal: list) -> None:
    """Move a file the commit replaces or removes into the staging folder, to put back on failure."""
    if not os.path.lexists(target):
        return
    keep.parent.mkdir(parents=True, exist_ok=True)
    _move(target, keep, target)
    journal.append(("moved", target, keep))


def _move(src: Path, dst: Path, named: Path) -> None:
    """``os.replace``, its error naming the file in the output folder (``named``), never a staging copy."""
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror or str(exc), str(named)) from exc


def _roll_back(journal: list) -> bool:
    """Undo a commit's steps, last first; whether every step was undone."""
    ok = True
    for step, path, keep in reversed(journal):
        try:
            if step == "placed":
                path.unlink()
            elif step == "moved":
                os.replace(keep, path)
            else:
                path.rmdir()
        except OSError:
            ok = ok and step == "made"  # a folder left behind loses nothing
    return ok


def _missing_folders(out: Path, folder: Path) -> list[Path]:
    """The folders between ``out`` and ``folder`` that do not exist yet, outermost first."""
    missing = []
    while folder != out and not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _preflight(out: Path, new: list[str]) -> None:
    """Refuse, before anything moves, a place where the new files cannot go, or could leave ``out``.

    Raises
    ------
    OutputError
        Naming the path: a file or a link where a folder must be, a folder (or anything
        but a file or a link) where a file must be, a folder that cannot be written.
    """
    folders = {out} | {out / PurePosixPath(rel).parent for rel in new}
    for folder in sorted(folders):
        for part in [folder, *folder.parents]:
            if part == out or out not in part.parents:
                break
            try:
                mode = os.lstat(part).st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(mode):
                raise OutputError(
                    "is a link, where gradient puts a folder of its outputs; it writes only inside the output "
                    "folder: remove the link or choose another output folder",
                    part,
                )
            if not stat.S_ISDIR(mode):
                raise OutputError(
                    "is a file, where gradient puts a folder of its outputs; move it away or choose another output "
                    "folder",
                    part,
                )
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(
                "is a folder gradient cannot write into (made by another user?); the earlier outputs are left "
                "as they were: make it writable or choose another output folder",
                folder,
            )
    for rel in [*new, MANIFEST]:
        target = out / rel
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            what = "a folder" if stat.S_ISDIR(mode) else "not a file"
            raise OutputError(
                f"is {what}, where gradient writes a file of its outputs; move it away or choose another output folder",
                target,
            )


def previous_outputs(out: str | Path) -> list[str]:
    """The files the last run wrote into ``out`` that are still exactly as it wrote them.

    A file counts only if :data:`MANIFEST` lists it with its SHA-256, its name is of a
    kind a run writes (:data:`OUTPUT_NAMES`: relative, normalised, never ``..``), it is a
    regular file reached through no link and inside ``out``, and its contents still have
    that SHA-256. A manifest that is damaged (not text, zero-filled, a line that does not
    parse) or missing counts as nothing known: no file is listed.

    Returns
    -------
    list of str
        Paths relative to ``out``, with ``/``.
    """
    out = Path(out)
    path = out / MANIFEST
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MANIFEST_BYTES:
            return []
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if not text.startswith(_HEADER) or not text.endswith("\n"):
        return []
    entries = []
    for line in text[len(_HEADER) :].splitlines():
        found = _LINE.match(line)
        if found is None:
            return []  # damaged: nothing known, never permission
        entries.append((found.group(1), found.group(2)))
    root = os.path.realpath(out)
    return [rel for digest, rel in entries if _proven(out, root, rel, digest)]


def _proven(out: Path, root: str, rel: str, digest: str) -> bool:
    """Whether ``out/rel`` is a file of the run's kinds, inside ``out`` through no link, with this SHA-256."""
    if not OUTPUT_NAMES.match(rel) or PurePosixPath(rel).as_posix() != rel:
        return False
    path = out / rel
    for part in [path, *path.parents]:
        if part == out:
            break
        try:
            mode = os.lstat(part).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode) or (part == path and not stat.S_ISREG(mode)) or (part != path and not stat.S_ISDIR(mode)):
            return False
    if not os.path.realpath(path).startswith(root + os.sep):
        return False
    try:
        return _sha256(path) == digest
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_staging(out: str | Path) -> list[Path]:
    """Remove staging folders a killed run left in ``out``; returns those removed.

    Only a real folder (not a link) named like :data:`STAGING_PREFIX` plus eight
    characters, holding a :data:`STAGING_MARKER` file that names a process which no
    longer runs, is removed; anything else is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(out))
    except OSError:
        return removed
    for entry in entries:
        if not _STAGING_NAME.match(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        marker = Path(entry.path) / STAGING_MARKER
        try:
            if not stat.S_ISREG(os.lstat(marker).st_mode):
                continue
            with open(marker, encoding="utf-8") as fh:
                found = _MARKER_TEXT.match(fh.read(100))
        except (OSError, UnicodeDecodeError):
            continue
        if found is None or _running(int(found.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (this one's own staging folders are never stale)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    try:  # Linux: a process killed but not yet reaped by its parent is a zombie, not running
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait (are blocked) for the commit's few renames, where the platform allows."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP") else set())
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
