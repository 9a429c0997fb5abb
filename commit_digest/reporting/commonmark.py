"""CommonMark with GitHub's table extension, through cmark-gfm, without leaking memory.

cmarkgfm's ``markdown_to_html_with_extensions`` never frees the document tree that
``cmark_parser_finish`` hands to the caller, nor the HTML string ``cmark_render_html``
allocates (cmark-gfm's API makes both the caller's to free): about 1 MB per 64 KB of
Markdown, for as long as the process lives. This module drives the same C functions and
frees both, with ``cmark_node_free`` (exported by the same library) and the C library's
``free`` (cmark-gfm's default allocator).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import cffi
from cmarkgfm import _cmark

_lib = _cmark.lib
_ffi = _cmark.ffi


@cache
def _release() -> tuple[Any, Any, Any]:
    ffi = cffi.FFI()
    ffi.cdef("void cmark_node_free(void *node); void free(void *ptr);")
    return ffi, ffi.dlopen(_cmark.__file__), ffi.dlopen(None)


@cache
def _extension(name: str) -> Any:
    _lib.cmark_gfm_core_extensions_ensure_registered()
    extension = _lib.cmark_find_syntax_extension(name.encode())
    if extension == _ffi.NULL:
        raise ValueError(f"cmark-gfm has no extension {name!r}")
    return extension


def to_html(text: str, options: int, extensions: tuple[str, ...] = ()) -> str:
    """Render Markdown to HTML with cmark-gfm, freeing everything the call allocates."""
    ffi, library, libc = _release()
    encoded = text.encode("utf-8")
    parser = _lib.cmark_parser_new(options)
    root = _ffi.NULL
    try:
        for name in extensions:
            _lib.cmark_parser_attach_syntax_extension(parser, _extension(name))
        _lib.cmark_parser_feed(parser, encoded, len(encoded))
        root = _lib.cmark_parser_finish(parser)
        rendered = _lib.cmark_render_html(
            root, options, _lib.cmark_parser_get_syntax_extensions(parser)
        )
        try:
            return _ffi.string(rendered).decode("utf-8")
        finally:
            libc.free(ffi.cast("void *", int(_ffi.cast("uintptr_t", rendered))))
    finally:
        if root != _ffi.NULL:
            library.cmark_node_free(ffi.cast("void *", int(_ffi.cast("uintptr_t", root))))
        _lib.cmark_parser_free(parser)
