"""Name resolution over facts only: what does a dotted name mean in a module and scope?

Follows Python's rules closely enough for dependency wiring: function scopes (and their
parameters) shadow enclosing ones, class bodies are skipped for nested functions, module
globals come next, then star imports. Imports are followed across modules (relative, `as`,
re-exports through `__init__`, `TYPE_CHECKING`). Names leading outside the project become
`RExternal`. Every chain is bounded, so import or alias cycles cannot loop.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ..components import Components
from ..facts.model import Assign, Call, Class, Lit, ModuleFacts, Name, Sub
from ..facts.extract import resolve_relative
from ..facts.text import import_sources, may_bind
from ..source import read_source

MAX_HOPS = 32
# Libraries whose names must stay external even when a copy of them sits in the analysed tree
# (linting FastAPI's own sdist, vendored trees): the linker models their behaviour itself.
ALWAYS_EXTERNAL = ("fastapi", "starlette", "typing", "typing_extensions", "functools", "pydantic")


@dataclass(frozen=True, slots=True)
class RModule:
    name: str


@dataclass(frozen=True, slots=True)
class RFunc:
    module: str
    qualname: str


@dataclass(frozen=True, slots=True)
class RClass:
    module: str
    qualname: str


@dataclass(frozen=True, slots=True)
class RVar:
    module: str
    scope: str
    assign: Assign


@dataclass(frozen=True, slots=True)
class RAttr:
    """An attribute of an instance of a project class: `service.get_user`."""

    cls: RClass
    attr: str


@dataclass(frozen=True, slots=True)
class RExternal:
    dotted: str


@dataclass(frozen=True, slots=True)
class RParam:
    """A parameter or other local whose value is not known statically."""

    name: str


Target = RModule | RFunc | RClass | RVar | RAttr | RExternal | RParam | None


Loader = Callable[[str], "ModuleFacts | None"]
Seen = set[tuple[str, str, str]]
# a deferred module an answer needs, and the name to be looked up in it (None: the module itself)
Blocked = tuple[str, str | None]
# a textual test of a deferred module: its bytes and the name wanted in it (`Resolver.resolve_when`)
MayMatter = Callable[[bytes, str | None], bool]
Method = TypeVar("Method", bound=Callable[..., Any])


def real_name(key: str) -> str:
    """A module's name without the `#n` that tells files of one name apart."""
    return key.split("#", 1)[0]


def question(method: Method) -> Method:
    """A method that others call: when the outermost one returns, every module it touched
    is joined (see `components`), so the modules one answer rests on stay in one part."""

    @functools.wraps(method)
    def asked(self: Resolver, *args: Any, **kwargs: Any) -> Any:
        if self._asking:
            return method(self, *args, **kwargs)
        self._asking = True
        try:
            return method(self, *args, **kwargs)
        finally:
            self._asking = False
            touched = self._touched
            if len(touched) > 1:  # (a module alone joins nothing; `join_graph` lists every module)
                self.components.join(touched)
            touched.clear()

    return asked  # type: ignore[return-value]


class Resolver:
    """`deferred` maps module names to a loader for modules not parsed up front; they are
    parsed the first time resolution reaches them and then join `modules`."""

    def __init__(self, modules: dict[str, ModuleFacts], deferred: dict[str, tuple[str, Loader]] | None = None) -> None:
        self.modules = modules
        self.deferred = deferred or {}
        self._suffix_index: dict[str, list[str]] | None = None
        self._twin_index: dict[str, list[str]] | None = None
        self._closest_memo: dict[tuple[str, str, str], list[str]] = {}  # see `_closest`
        self._folders: dict[str, list[str]] = {}  # module key -> its file's folders
        # while False (`resolve_loaded`), deferred modules are not loaded: the first one reached
        # is remembered in `blocked`, with the name looked up in it (None: the module itself)
        self.loading = True
        self.blocked: Blocked | None = None
        # while True as well (`resolve_when`), a deferred package whose text cannot bind the
        # name imported from it is passed by to its submodule of that name, unparsed
        self.textual = False
        self._sources: dict[str, bytes] = {}
        self._imported_from: dict[tuple[str, str], list[tuple[str, str | None]]] = {}  # see `_hands_on`
        # module-level `NAME = callee(...)` of the deferred modules, from the pre-scan
        self.deferred_calls: dict[str, set[str]] = {}
        # the modules each outermost question touched, joined (`question`)
        self.components = Components()
        self._asking = False
        self._touched: set[str] = set()
        self._final: dict[tuple[str, str, str], tuple[Target, frozenset[str]]] = {}  # see `_resolve_loaded`
        # every module name looked up, found or not: a file that comes or goes later changes
        # no answer unless its name is related to one of these (`run_cache.Membership`)
        self.asked: set[str] = set()

    def join(self, *modules: str) -> None:
        """For a rule that pairs modules without asking the resolver (see `components`)."""
        self.components.join(modules)

    def _build_suffix_index(self) -> dict[str, list[str]]:
        """Every dotted tail of each module's name *and of its file path*, so imports written
        against a namespace package or a `src/` root (`open_webui.utils.auth` for a file whose
        folders have no `__init__.py`) still find the file, when the tail is unambiguous."""
        index: dict[str, set[str]] = {}
        entries = [(m, f.path) for m, f in self.modules.items()] + [(m, p) for m, (p, _) in self.deferred.items()]
        for key, path in entries:
            name = real_name(key)
            parts = name.split(".")
            for i in range(1, len(parts)):
                index.setdefault(".".join(parts[i:]), set()).add(key)
            segments = [seg for seg in path.replace("\\", "/").split("/") if seg not in ("", ".")]
            if segments and segments[-1].endswith(".py"):
                segments[-1] = segments[-1][:-3]
                if segments[-1] == "__init__":
                    segments.pop()
                for i in range(len(segments) - 1, -1, -1):  # longer tails while all are names
                    if not segments[i].isidentifier():
                        break
                    index.setdefault(".".join(segments[i:]), set()).add(key)
        return {k: sorted(v) for k, v in index.items()}

    def _load(self, name: str, wanted: str | None = None) -> bool:
        """`wanted`: the name to be looked up in the module, if known (see `blocked`)."""
        if name in self.deferred:  # (only project modules: `time` would join every module using it)
            self._touched.add(name)
        if not self.loading:
            if self.blocked is None and name in self.deferred:
                self.blocked = (name, wanted)
            return False
        entry = self.deferred.pop(name, None)
        if entry is None:
            return False
        facts = entry[1](name)
        if facts is None or facts.error is not None:
            return False
        self.modules[name] = facts
        return True

    def _take(self, name: str, wanted: str | None) -> bool:
        """Load a deferred module (`_load`); in textual mode (`Resolver.textual`), one that is
        itself the answer so far (`import pkg.sub`, `from pkg import sub`: no name wanted of it
        yet) is taken unparsed instead: `_attribute` decides by its text once a name is."""
        before = self.blocked
        if self._load(name, wanted):
            return True
        if self.textual and not self.loading and wanted is None and before is None and self.blocked == (name, None):
            self.blocked = None
            return True
        return False

    def _resolve_loaded(self, module: str, scope: str, dotted: str, textual: bool = False) -> tuple[Target, Blocked | None]:
        """`resolve` over the modules parsed so far, parsing nothing: (target, None), or (what
        it found, the deferred module that stood in the way) when the answer needs one. Lets a
        question asked of every name (is this a router class? an `Annotated` alias? a
        module-level client?) decide cheaply whether a module the pre-scan skipped can matter.

        An answer that touched no deferred module is final (parsed modules never change, and
        the deferred ones are the only ones that can join): it is kept with the modules it
        touched, which a later asker touches too (`question` joins them). Rules ask the same
        name in the same scope again and again: 44% of FDL302's questions on litellm.
        `textual`: see `Resolver.textual` (the answer is the same, only blocked less often)."""
        key = (module, scope, dotted)
        known = self._final.get(key)
        if known is not None:
            self._touched |= known[1]
            return known[0], None
        outer, self._touched = self._touched, set()
        try:
            with self.parsed_only(textual) as blocked:
                target = self._resolve(module, scope, dotted)
        finally:
            touched, self._touched = self._touched, outer
            outer |= touched
        if not blocked and not any(m in self.deferred for m in touched):
            self._final[key] = (target, frozenset(touched))
        return target, blocked[0] if blocked else None

    @contextmanager
    def parsed_only(self, textual: bool = False) -> Iterator[list[Blocked]]:
        """Within the block nothing is parsed; afterwards the list holds the deferred module
        that was needed first (and the name looked up in it), if any."""
        saved = self.loading, self.blocked, self.textual
        self.loading, self.blocked, self.textual = False, None, textual
        blocked: list[Blocked] = []
        try:
            yield blocked
        finally:
            if self.blocked is not None:
                blocked.append(self.blocked)
            self.loading, self.blocked, self.textual = saved

    def _resolve_when(self, module: str, scope: str, dotted: str, may_matter: MayMatter) -> Target:
        """`resolve`, parsing a deferred module on the way only when `may_matter(its bytes, the
        name looked up in it)` (the name is None when the module itself is wanted: `import m`);
        otherwise None. For questions asked of every name a function uses, where a textual
        test can rule most modules out (`FDL201` looks for `NAME = Ctor(...)`). The name is
        the one the module is asked for, which an import may have renamed on the way
        (`from helpers import pause as nap`: `pause`)."""
        for _ in range(MAX_HOPS):
            target, blocked = self._resolve_loaded(module, scope, dotted, textual=True)
            if blocked is None:
                return target
            name, wanted = blocked
            data = self._deferred_source(name)
            if not (may_matter(data, wanted) or self._hands_on(name, data, wanted, may_matter)) or not self._load_now(name):
                return None
        return None

    def _hands_on(self, name: str, data: bytes, wanted: str | None, may_matter: MayMatter, depth: int = 0) -> bool:
        """Does module `name` import `wanted` from a module that may matter (a package's
        `__init__.py` re-exporting `from .helpers import pause as nap`)? One may when its text
        (parsed or not) passes `may_matter` for the name it has there, or hands that on in turn
        from one that may (a few hops, by text). Parsing every module that merely imports the
        name cost litellm 31 more modules and 1.3 s, for no finding."""
        if wanted is None or depth > 3:
            return False
        sources = self._imported_from.get((name, wanted))
        if sources is None:
            sources = self._imported_from[name, wanted] = import_sources(data, wanted)
        is_package = (self.deferred_path(name) or self._parsed_path(name)).endswith("__init__.py")
        for written, original in sources:
            dots = len(written) - len(written.lstrip("."))
            base = resolve_relative(real_name(name), is_package, dots, written[dots:] or None)
            # `from . import helpers` imports a submodule
            for source, there in ((base, original), (f"{base}.{original}", None)) if original else ((base, None),):
                key = self._known_module(source)
                if key is None or key == name:
                    continue
                text = self._deferred_source(key)
                if may_matter(text, there) or self._hands_on(key, text, there, may_matter, depth + 1):
                    return True
        return False

    def _pass_by(self, attr: str) -> tuple[Target] | None:
        """Textual mode (`Resolver.textual`): the deferred package just blocked on, asked for
        `attr`. When its text cannot bind `attr`, the answer as if it were parsed (its submodule
        `attr`, or nothing), in a 1-tuple, the package left unparsed; otherwise None, with
        `attr` noted as the name wanted of it."""
        assert self.blocked is not None
        package = self.blocked[0]
        if may_bind(self._deferred_source(package), attr):
            self.blocked = (package, attr)
            return None
        self.blocked = None
        sub = self._find_module(f"{real_name(package)}.{attr}", package)
        return (RModule(sub) if sub is not None else None,)

    def _parsed_path(self, name: str) -> str:
        facts = self.modules.get(name)
        return facts.path if facts is not None else ""

    def _known_module(self, name: str) -> str | None:
        """The key of a project module, parsed or deferred, by its name (or a unique tail of
        it, see `_find_module`), parsing nothing. The name counts as asked (`asked`): a file
        that comes with it later may change the answer."""
        self.asked.add(name)
        if name in self.modules or name in self.deferred:
            return name
        if self._suffix_index is None:
            self._suffix_index = self._build_suffix_index()
        candidates = self._suffix_index.get(name, []) if "." in name else []
        return candidates[0] if len(candidates) == 1 else None

    def may_be_module(self, name: str) -> bool:
        """Might an absolute import of `name` land on a project module (as `_find_module` would
        find it)? Parses nothing; the name counts as asked (`asked`)."""
        if name.split(".", 1)[0] in ALWAYS_EXTERNAL:
            return False
        self.asked.add(name)
        if name in self.modules or name in self.deferred or name in self._twins():
            return True
        if "." not in name:
            return False
        if self._suffix_index is None:
            self._suffix_index = self._build_suffix_index()
        return bool(self._suffix_index.get(name))

    def _deferred_source(self, name: str) -> bytes:
        """The bytes of a deferred module, or of a parsed one (empty when unreadable), read once."""
        self._touched.add(name)
        cached = self._sources.get(name)
        if cached is None:
            path = self.deferred_path(name) or self._parsed_path(name)
            try:
                cached = read_source(path) if path else b""
            except OSError:
                cached = b""
            self._sources[name] = cached
        return cached

    def _load_now(self, name: str) -> bool:
        """Parse a deferred module now (True when it joined `modules`)."""
        self._sources.pop(name, None)
        return name in self.modules or self._load(name)

    def deferred_path(self, name: str) -> str | None:
        entry = self.deferred.get(name)
        return entry[0] if entry is not None else None

    # -- modules ------------------------------------------------------------------------------
    def _find_module(self, name: str, near: str | None = None, wanted: str | None = None) -> str | None:
        """The project module for an absolute name; falls back to a unique suffix match so
        namespace packages and `src/` roots without `__init__.py` still link. `near`: the
        module that imports it, when several files have this name (see `_nearest`); `wanted`:
        the name to be looked up in it, if known (see `blocked`)."""
        if name.split(".", 1)[0] in ALWAYS_EXTERNAL:
            return None
        self.asked.add(name)
        if near is not None and name in self._twins():
            name = self._nearest(name, near)
        if name in self.modules or (name in self.deferred and self._take(name, wanted)):
            self._touched.add(name)
            return name
        if "." not in name:  # `import requests` must not land on a project file `api/requests.py`
            return None
        if self._suffix_index is None:
            self._suffix_index = self._build_suffix_index()
        candidates = self._suffix_index.get(name, [])
        if len(candidates) > 1 and near is not None:
            candidates = self._nearest_of(name, candidates, near)
        if len(candidates) != 1:
            return None
        found = candidates[0]
        if found in self.modules or (found in self.deferred and self._take(found, wanted)):
            self._touched.add(found)
            return found
        return None

    def _twins(self) -> dict[str, list[str]]:
        """Module names that several files have (`app.main`, `app.main#2`, ...: each service of
        a monorepo with its own `app` package), each with its keys in discovery order."""
        if self._twin_index is None:
            index: dict[str, list[str]] = {}
            for key in sorted((*self.modules, *self.deferred), key=lambda k: k.partition("#")[2].zfill(6)):
                if "#" in key:
                    name = real_name(key)
                    index.setdefault(name, [name] if name in self.modules or name in self.deferred else []).append(key)
            self._twin_index = index
        return self._twin_index

    def _nearest(self, name: str, near: str) -> str:
        """Of the files named `name`, the one in the folder nearest the importing module's:
        service b's `from app.deps import get_db` means service b's `app/deps.py` (on a tie,
        the first found)."""
        return self._closest("twin", name, self._twins()[name], near)[0]

    def _nearest_of(self, name: str, candidates: list[str], near: str) -> list[str]:
        """The one candidate nearest the importing module (the only one with the longest
        shared folder), or all of them when that does not single one out. A name found by
        its tail in two copies of a project side by side (`a/src/pkg/...`, `b/src/pkg/...`,
        folders without `__init__.py`) means the importer's own copy."""
        closest = self._closest("tail", name, candidates, near)
        return closest if len(closest) == 1 else candidates

    def _closest(self, kind: str, name: str, candidates: list[str], near: str) -> list[str]:
        """The candidates whose files share the most leading folders with `near`'s, in their
        order. Memoised per (kind, name, importer): in a tree of copies every module has
        twins and resolution asks for every import (the benchmark corpus twice over: rules
        2.7x the time of once before)."""
        found = self._closest_memo.get((kind, name, near))
        if found is None:
            here = self._folders_of(near)

            def shared(key: str) -> int:
                n = 0
                for a, b in zip(self._folders_of(key), here):
                    if a != b:
                        break
                    n += 1
                return n

            depths = [shared(key) for key in candidates]
            best = max(depths)
            found = self._closest_memo[(kind, name, near)] = [key for key, depth in zip(candidates, depths) if depth == best]
        return found

    def _folders_of(self, key: str) -> list[str]:
        """The folders of a module's file (cached)."""
        folders = self._folders.get(key)
        if folders is None:
            facts = self.modules.get(key)
            found = facts.path if facts is not None else self.deferred_path(key) or ""
            folders = self._folders[key] = os.path.dirname(os.path.abspath(found)).split(os.sep)
        return folders

    # -- scopes -------------------------------------------------------------------------------
    def scope_chain(self, facts: ModuleFacts, scope: str) -> list[str]:
        chain: list[str] = []
        current = scope
        for _ in range(MAX_HOPS):
            if not current:
                break
            fn = facts.functions.get(current)
            if fn is not None:
                chain.append(current)
                current = fn.parent
                continue
            cls = facts.classes.get(current)
            if cls is not None:  # class bodies are not enclosing scopes for functions
                current = cls.parent
                continue
            break
        chain.append("")
        return chain

    def _lookup(self, module: str, scope: str, name: str, hops: int = 0, _seen: Seen | None = None) -> Target:
        """`_seen`: the (module, name) pairs this query already searched through imports and
        star imports; each is searched once (modules that import one another, or star-import
        one another, would otherwise be searched exponentially often)."""
        facts = self.modules.get(module)
        if facts is None or hops > MAX_HOPS:
            if module in self.deferred:  # (an answer that would differ once it is loaded)
                self._touched.add(module)
            return None
        self._touched.add(module)
        seen: Seen = _seen if _seen is not None else set()
        for s in self.scope_chain(facts, scope):
            found = self._lookup_in_scope(facts, s, name, hops, seen)
            if found is not None:
                return found
        for star in facts.star_imports:
            target_mod = self._find_module(star, module, name)
            if target_mod is not None and target_mod != module:
                if ("*", target_mod, name) in seen:
                    continue
                seen.add(("*", target_mod, name))
                found = self._lookup(target_mod, "", name, hops + 1, seen)
                if found is not None:
                    return found
            elif target_mod is None:
                if star.split(".")[0] in ("fastapi", "starlette") or name in ("Depends", "Security"):
                    return RExternal(f"{star}.{name}")
        return None

    def _lookup_in_scope(self, facts: ModuleFacts, scope: str, name: str, hops: int, _seen: Seen | None = None) -> Target:
        prefix = f"{scope}.<locals>." if scope else ""
        candidates: list[tuple[int, Target]] = []
        fn = facts.functions.get(prefix + name)
        if fn is not None and fn.parent == scope:
            candidates.append((fn.loc[0], RFunc(facts.module, fn.qualname)))
        cls = facts.classes.get(prefix + name)
        if cls is not None and cls.parent == scope:
            candidates.append((cls.loc[0], RClass(facts.module, cls.qualname)))
        assigns = facts.assigns.get(scope, {}).get(name)
        if assigns:
            last = assigns[-1]
            if not (cls is not None and last.loc[0] == cls.loc[0] and last.value is None):
                candidates.append((last.loc[0], RVar(facts.module, scope, last)))
        imported = facts.imports.get(scope, {}).get(name)
        if imported is not None:
            candidates.append((imported.loc[0], self._resolve_import(imported.module, imported.attr, hops + 1, _seen, facts.module)))
        if candidates:
            # the binding written last wins (`try: import x / except: x = None` keeps x importable)
            best = max(candidates, key=lambda c: (c[0], c[1] is not None and not isinstance(c[1], RVar)))
            if best[1] is None:
                for _, t in candidates:
                    if t is not None:
                        return t
                return None
            return best[1]
        if scope:
            fn_scope = facts.functions.get(scope)
            if fn_scope is not None and any(p.name == name for p in fn_scope.params):
                return RParam(name)
        return None

    def _resolve_import(self, module: str, attr: str | None, hops: int = 0, _seen: Seen | None = None, near: str | None = None) -> Target:
        if attr is None:
            found = self._find_module(module, near)
            return RModule(found) if found is not None else RModule(module)
        before = self.blocked
        found = self._find_module(module, near, attr)
        if found is None and before is None and self.textual and self.blocked is not None and self.blocked[1] == attr:
            passed = self._pass_by(attr)
            if passed is not None:
                return passed[0]
        if found is not None:
            seen: Seen = _seen if _seen is not None else set()
            if ("import", found, attr) in seen:  # an import cycle: nothing new down there
                return None
            seen.add(("import", found, attr))
            facts = self.modules[found]
            target = self._lookup_in_scope(facts, "", attr, hops, seen) if hops <= MAX_HOPS else None
            if target is not None:
                return target
            sub = self._find_module(f"{real_name(found)}.{attr}", found)
            if sub is not None:
                return RModule(sub)
            for star in facts.star_imports:
                star_mod = self._find_module(star, found, attr)
                if star_mod is not None and star_mod != found and hops <= MAX_HOPS:
                    t = self._resolve_import(star_mod, attr, hops + 1, seen)
                    if t is not None:
                        return t
            return None
        sub = self._find_module(f"{module}.{attr}", near)
        if sub is not None:
            return RModule(sub)
        return RExternal(f"{module}.{attr}")

    # -- dotted names --------------------------------------------------------------------------
    def _resolve(self, module: str, scope: str, dotted: str, hops: int = 0) -> Target:
        head, *rest = dotted.split(".")
        target = self._lookup(module, scope, head, hops)
        if target is None and not rest:
            return None
        if target is None:
            # `import a.b` binds `a`; the `<sub>` entries make `a.b.c` reachable
            facts = self.modules.get(module)
            if facts is not None:
                for i in range(len(rest), 0, -1):
                    sub = ".".join([head, *rest[:i]])
                    for s in self.scope_chain(facts, scope):
                        if f"<sub>{sub}" in facts.imports.get(s, {}):
                            target = RModule(self._find_module(sub, module) or sub)
                            rest = rest[i:]
                            break
                    if target is not None:
                        break
            if target is None:
                return None
        for attr in rest:
            target = self._attribute(target, attr, hops + 1, module)
            if target is None:
                return None
        return target

    def _attribute(self, target: Target, attr: str, hops: int = 0, near: str | None = None) -> Target:
        """`target.attr`; `near`: the module that wrote it (a submodule of a namespace package
        is that module's copy, see `_find_module`)."""
        if hops > MAX_HOPS or target is None:
            return None
        if isinstance(target, RModule):
            if target.name in self.modules:
                self._touched.add(target.name)
                found = self._lookup_in_scope(self.modules[target.name], "", attr, hops)
                if found is not None:
                    return found
                sub = self._find_module(f"{real_name(target.name)}.{attr}", target.name)
                return RModule(sub) if sub is not None else None
            if target.name in self.deferred and self.textual and not self.loading:  # taken unparsed (`_take`)
                self._touched.add(target.name)
                if self.blocked is not None:
                    return None
                self.blocked = (target.name, attr)
                passed = self._pass_by(attr)
                return passed[0] if passed is not None else None
            sub = self._find_module(f"{target.name}.{attr}", near)
            if sub is not None:
                return RModule(sub)
            return RExternal(f"{target.name}.{attr}")
        if isinstance(target, RExternal):
            return RExternal(f"{target.dotted}.{attr}")
        if isinstance(target, RClass):
            return self._class_attribute(target, attr, hops)
        if isinstance(target, RVar):
            value = target.assign.value
            if isinstance(value, Name):
                inner = self._resolve(target.module, target.scope, value.dotted, hops + 1)
                return self._attribute(inner, attr, hops + 1)
            if isinstance(value, Call) and isinstance(value.func, Name):
                callee = self._resolve(target.module, target.scope, value.func.dotted, hops + 1)
                if isinstance(callee, RClass):
                    return RAttr(callee, attr)
                if isinstance(callee, RExternal):
                    return RExternal(f"{callee.dotted}().{attr}")
                if isinstance(callee, RFunc):
                    holder = value.func.dotted.rpartition(".")[0]  # `Repo.create()`: `cls` is Repo
                    owner = self._resolve(target.module, target.scope, holder, hops + 1) if holder else None
                    made = self._made_by(callee, owner if isinstance(owner, RClass) else None, hops + 1)
                    if made is not None:
                        return RAttr(made, attr)
            if target.assign.annotation is not None and isinstance(target.assign.annotation, Name):
                ann = self._resolve(target.module, target.scope, target.assign.annotation.dotted, hops + 1)
                if isinstance(ann, RClass):
                    return RAttr(ann, attr)
            return None
        return None

    def _made_by(self, func: RFunc, owner: RClass | None, hops: int) -> RClass | None:
        """The project class whose instance a plain function returns (`repo = make_repo()`):
        the class its return annotation names, or that every `return` builds (`return
        Repo(db)`; a `return None` aside: a method called on the value means it was not None).
        `owner`: the class a classmethod was called on, which `return cls(...)` (or `-> Self`)
        builds. None
        for an async function or a generator, or when the returns differ."""
        facts = self.modules.get(func.module)
        fn = facts.functions.get(func.qualname) if facts is not None else None
        if fn is None or fn.is_async or fn.is_generator or hops > MAX_HOPS:
            return None
        if isinstance(fn.returns_annotation, Name):
            found = self._resolve(func.module, fn.parent, fn.returns_annotation.dotted, hops + 1)
            if isinstance(found, RExternal) and found.dotted in ("typing.Self", "typing_extensions.Self"):
                return owner if owner is not None else (RClass(func.module, fn.parent) if fn.class_name is not None else None)
            return found if isinstance(found, RClass) else None
        cls_param = fn.params[0].name if fn.class_name is not None and fn.params else None

        def built(value: object) -> Target:
            if not (isinstance(value, Call) and isinstance(value.func, Name)):
                return None
            if value.func.dotted == cls_param == "cls":
                return owner
            return self._resolve(func.module, fn.qualname, value.func.dotted, hops + 1)

        made = [built(value) for value in fn.returns if not (isinstance(value, Lit) and value.value is None)]
        first = made[0] if made else None
        return first if isinstance(first, RClass) and all(m == first for m in made) else None

    def _class_attribute(self, cls: RClass, attr: str, hops: int = 0) -> Target:
        for klass_ref in self._mro(cls):
            facts = self.modules[klass_ref.module]
            qual = f"{klass_ref.qualname}.{attr}"
            if qual in facts.functions:
                return RFunc(klass_ref.module, qual)
            if qual in facts.classes:
                return RClass(klass_ref.module, qual)
            assigns = facts.assigns.get(klass_ref.qualname, {}).get(attr)
            if assigns:
                return RVar(klass_ref.module, klass_ref.qualname, assigns[-1])
        return None

    def _class_facts(self, cls: RClass) -> Class | None:
        self._touched.add(cls.module)
        facts = self.modules.get(cls.module)
        return facts.classes.get(cls.qualname) if facts is not None else None

    def _mro(self, cls: RClass, hops: int = 0) -> list[RClass]:
        """Project classes in (approximate, depth-first) method resolution order."""
        order: list[RClass] = []
        stack = [cls]
        while stack and len(order) < MAX_HOPS:
            current = stack.pop(0)
            if current in order:
                continue
            order.append(current)
            facts = self._class_facts(current)
            if facts is None:
                continue
            for base in facts.bases:
                base_t = self._resolve_expr_name(current.module, facts.parent, base)
                if isinstance(base_t, RClass):
                    stack.append(base_t)
        return order

    def _external_bases(self, cls: RClass) -> list[str]:
        """Dotted names of the external classes somewhere in `cls`'s bases."""
        result: list[str] = []
        for klass in self._mro(cls):
            facts = self._class_facts(klass)
            if facts is None:
                continue
            for base in facts.bases:
                t = self._resolve_expr_name(klass.module, facts.parent, base)
                if isinstance(t, RExternal):
                    result.append(t.dotted)
        return result

    def _resolve_expr_name(self, module: str, scope: str, x: object) -> Target:
        if isinstance(x, Sub):  # Generic[T], BaseModel[...] etc.
            x = x.value
        if isinstance(x, Name):
            return self._resolve(module, scope, x.dotted)
        return None

    # the questions others ask (`question`); the resolver's own calls go to the methods above
    resolve_loaded = question(_resolve_loaded)
    resolve_when = question(_resolve_when)
    deferred_source = question(_deferred_source)
    load = question(_load_now)
    find_module = question(_find_module)
    lookup = question(_lookup)
    resolve_import = question(_resolve_import)
    resolve = question(_resolve)
    attribute = question(_attribute)
    class_attribute = question(_class_attribute)
    class_facts = question(_class_facts)
    mro = question(_mro)
    external_bases = question(_external_bases)
    resolve_expr_name = question(_resolve_expr_name)
