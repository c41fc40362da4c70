"""Watchers of removed widgets are let go, so that a desk open all day does not grow.

`widget.watch(obj, "attr", callback)` (and `data_bind`, which uses it) stores `(widget, callback)` on the
*watched* object, and Textual drops the entry only when that attribute changes next
(Textualize/textual#6666). Attributes that never change keep every widget that ever watched them, with its
whole subtree: each Footer rebuild (on every screen switch and focus change) left its old keys on the Footer's
`compact`, each card's Header stayed on the app's `title` and `sub_title`, each TextArea on the app's `theme`:
the soak (tests/test_soak.py) measured 0.7 MB a second of navigation.

`drop_watchers_of_removed_nodes` makes every `watch` first drop the entries of removed (closing) nodes from the
list it adds to, as Textual does when the attribute changes: a list holds the live watchers and at most the
removed ones of the last rebuild.
"""

from __future__ import annotations

from typing import Any

from textual.dom import DOMNode

_WATCH = DOMNode.watch


def _watch_dropping_removed(self: DOMNode, obj: DOMNode, attribute_name: str, callback: Any,
                            init: bool = True) -> None:
    watchers = getattr(obj, "__watchers", {}).get(attribute_name)  # Textual's own store (reactive._watch)
    if watchers:
        watchers[:] = [(node, call) for node, call in watchers if not getattr(node, "_closing", False)]
    _WATCH(self, obj, attribute_name, callback, init=init)


def drop_watchers_of_removed_nodes() -> None:
    """Make every `DOMNode.watch` of the process drop removed nodes' entries first (idempotent)."""
    DOMNode.watch = _watch_dropping_removed  # type: ignore[method-assign]
