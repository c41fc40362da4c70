"""Footer keys are built in their final style, not restyled as they mount.

Textual (8.2.8) rebuilds a screen's Footer whenever its bindings change (a focus change, a screen switch, a
key that changes what is offered). Each FooterKey starts `compact` (its default: the class `-compact` is set as
it mounts) and is then bound to the Footer's `compact`, which is off by default: the class goes again, and each
change restyles the key at once, after styling it as it mounted. At 120x40 that was some 200 restyles in the
desk's first second and ~20 on every focus change (~1.3 ms each: 260 ms of the first second, 26 ms of a key
that moves the focus).

`plain_footer_keys` builds every FooterKey with the class its first `compact` gives it, and makes one that is
bound to its Footer's `compact` start with the Footer's value: neither its first value nor the binding changes
its classes. Keys not bound (the command palette's) keep Textual's default, compact. The look is the same.
"""

from __future__ import annotations

from typing import Any

from textual._context import active_message_pump
from textual.widgets._footer import FooterKey

_DATA_BIND = FooterKey.data_bind
_INIT = FooterKey.__init__
_PATCHED = "_leaddesk_plain"


def _init_with_its_class(self: FooterKey, *args: Any, **kwargs: Any) -> None:
    _INIT(self, *args, **kwargs)
    self.set_class(FooterKey._default_compact, "-compact", update=False)  # type: ignore[attr-defined]


def _data_bind_starting_as_the_footer(self: FooterKey, *args: Any, **kwargs: Any) -> Any:
    if "compact" in kwargs:
        start = bool(getattr(active_message_pump.get(), "compact", True))  # the Footer composing this key
        self.set_reactive(FooterKey.compact, start)  # a value before mounting: Textual calls no watcher for it
        self.set_class(start, "-compact", update=False)  # ... so the class its watcher would set is set here
    return _DATA_BIND(self, *args, **kwargs)


def plain_footer_keys() -> None:
    """Make every FooterKey of the process bound to its Footer's `compact` start with its value (idempotent)."""
    if not getattr(FooterKey, _PATCHED, False):
        FooterKey.__init__ = _init_with_its_class  # type: ignore[method-assign]
        FooterKey.data_bind = _data_bind_starting_as_the_footer  # type: ignore[method-assign]
        setattr(FooterKey, _PATCHED, True)
