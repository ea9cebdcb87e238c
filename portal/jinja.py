"""The portal's Jinja environment: Flask's, with each template's globals a plain dict.

Jinja (3.1) gives every template its globals as a ``ChainMap`` of the template's own over
the environment's, so that a global added to the environment later is still seen. Every
``{% from ... import %}`` (the layout has several, and every GOV.UK macro imports another
as it runs) compares the importing context's globals with the imported template's through
that ChainMap, one Python-level lookup per global, and every render copies the globals out
of it the same way: measured with callgrind, about 1.9 million instructions of the bare
layout's 6.8 million, and as much again on every page (pallets/jinja#2185 is upstream's
open proposal for part of it).

Here a template's globals are a dict, copied from the environment's when the template is
loaded. What the ChainMap was for, a global added to the environment after a template was
loaded, is kept by the environment's globals emptying the cache of loaded templates whenever
they change: the next render loads the template again, with them. The portal adds all its
globals in create_app, before any template is loaded.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from flask.templating import Environment


class _EnvironmentGlobals(dict[str, Any]):
    """The environment's globals: any change empties the environment's loaded templates."""

    def __init__(self, environment: PortalEnvironment, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._environment = environment

    def _changed(self) -> None:
        if self._environment.cache is not None:
            self._environment.cache.clear()

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: str, default: Any = None) -> Any:
        found = super().setdefault(key, default)
        self._changed()
        return found

    def pop(self, key: str, *default: Any) -> Any:
        found = super().pop(key, *default)
        self._changed()
        return found

    def popitem(self) -> tuple[str, Any]:
        found = super().popitem()
        self._changed()
        return found

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __ior__(self, other: Any) -> _EnvironmentGlobals:
        self.update(other)
        return self


class PortalEnvironment(Environment):
    """Flask's environment, whose templates' globals are plain dicts (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals = _EnvironmentGlobals(self, self.globals)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **d} if d else dict(self.globals)
