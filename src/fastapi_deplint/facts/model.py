"""Per-file facts: the small, picklable summary of one module that crosses file boundaries.

Parsing is the expensive step; everything after it (linking, rules, reports) works on these
facts only, so they can be computed in parallel and cached by content hash.

Expressions that later stages must *resolve* (a `Depends` target, a decorator, a router
variable, an `Annotated` alias) are kept as a tiny expression tree (`X`): names as dotted
strings, calls with their arguments, subscripts, literals and sequences. Everything else is
`Opaque`. Whether a call is FastAPI's `Depends` is decided at link time by resolving the
callee, so a module that shadows `Depends` is handled for free.
"""

from __future__ import annotations

import copyreg
import operator
from dataclasses import dataclass, field, fields
from typing import TypeVar, Union

T = TypeVar("T")


def compact_pickle(cls: type[T]) -> type[T]:
    """Pickle a dataclass as the class called with its fields, in order, without running
    Python code per object.

    The default pickles each object as a `__dict__` with its field names: the facts of a
    large app are a few hundred thousand small objects, so the names were a third of the
    bytes, and a dict per object made unpickling slow. Measured on litellm's 138 parsed
    modules: 11.8 MB, 0.45 s to unpickle and 0.67 s to pickle before; 7.9 MB, 0.19 s and
    0.33 s after. Both are on the critical path: workers pickle, the parent unpickles their
    facts, a cache write pickles, a warm run unpickles.

    The reducer is registered with `copyreg` (which `pickle`, `multiprocessing` and `copy`
    consult before `__reduce_ex__`) and built from C callables only: `attrgetter` reads the
    class and a property whose getter is another `attrgetter` over the fields. A Python
    `__reduce__` cost a frame per object: 18% of the pickling time of litellm's 60 largest
    modules (0.82 s against 0.67 s, 370,000 objects, same bytes)."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    get = operator.attrgetter(*names)
    cls._pickle_class = cls  # type: ignore[attr-defined]
    cls._pickle_args = property(get if len(names) > 1 else lambda obj: (get(obj),))  # type: ignore[attr-defined]
    copyreg.pickle(cls, operator.attrgetter("_pickle_class", "_pickle_args"))
    return cls


# A source span: (line, col, end_line, end_col), 1-based lines and 0-based columns as in `ast`.
# A plain tuple on purpose: facts hold about a hundred per file, and a NamedTuple pickles and
# unpickles through a Python-level call per instance (measured: 40% of the facts' pickling time,
# which is what workers send to the parent and what the cache stores).
Loc = tuple[int, int, int, int]


# --- the expression tree -------------------------------------------------------------------


@compact_pickle
@dataclass(eq=False)
class Name:
    """A name or attribute chain rooted at a name: `get_db`, `deps.get_db`, `self.router`."""

    dotted: str
    loc: Loc


@compact_pickle
@dataclass(eq=False)
class Call:
    func: "X"
    args: tuple["X", ...]
    kwargs: tuple[tuple[str | None, "X"], ...]  # None key = **kwargs
    loc: Loc


@compact_pickle
@dataclass(eq=False)
class Sub:
    """A subscript `value[items]` (for `Annotated[...]`)."""

    value: "X"
    items: tuple["X", ...]
    loc: Loc


@compact_pickle
@dataclass(eq=False)
class Lit:
    value: str | int | float | bool | None
    loc: Loc


@compact_pickle
@dataclass(eq=False)
class Seq:
    """A list, tuple or set display."""

    items: tuple["X", ...]
    loc: Loc


@compact_pickle
@dataclass(eq=False)
class Opaque:
    """Anything we do not model (lambdas, comprehensions, f-strings, arithmetic...)."""

    kind: str
    loc: Loc


X = Union[Name, Call, Sub, Lit, Seq, Opaque]


# --- definitions -------------------------------------------------------------------------


@compact_pickle
@dataclass
class Param:
    name: str
    kind: str  # "posonly" | "pos" | "vararg" | "kwonly" | "varkw"
    annotation: X | None
    default: X | None
    loc: Loc


@compact_pickle
@dataclass
class CallSite:
    """A call made inside a function body (for the lifecycle/async rules)."""

    callee: str  # dotted name as written, "" when the callee is not a name chain
    loc: Loc
    awaited: bool
    in_with: bool  # inside a `with`/`async with` item or body
    arg_names: tuple[str, ...]  # simple-name positional/keyword argument values
    in_thread: bool = False  # an argument of run_in_threadpool / to_thread


@compact_pickle
@dataclass
class Function:
    qualname: str  # "outer.<locals>.inner", "Class.method"
    name: str
    loc: Loc  # of the `def` keyword line
    is_async: bool
    is_generator: bool
    decorators: list[X]
    params: list[Param]
    returns: list[X]  # values of `return` statements (own body only)
    yields: list[Loc]
    parent: str  # qualname of the enclosing function/class, "" at module level
    class_name: str | None  # set for methods
    calls: list[CallSite] = field(default_factory=list)
    global_names: list[str] = field(default_factory=list)  # `global x` declarations
    mutations: list[tuple[str, Loc, str]] = field(default_factory=list)  # (name, loc, how)
    loads: set[str] = field(default_factory=set)  # plain names read in the body
    raises_auth_error: bool = False  # raises HTTPException(401/403) or similar
    has_finally: bool = False
    returns_annotation: X | None = None
    body_loc: Loc | None = None


@compact_pickle
@dataclass
class Class:
    qualname: str
    name: str
    loc: Loc
    bases: list[X]
    decorators: list[X]
    parent: str
    methods: list[str]  # method names defined in the body
    fields: list[Param]  # annotated class-level fields, in order (dataclass / pydantic)


def first_line(definition: Function | Class) -> int:
    """The line a definition starts on: its first decorator's, else its `def`/`class` line."""
    return min([definition.loc[0], *(d.loc[0] for d in definition.decorators)])


@compact_pickle
@dataclass
class Assign:
    """`name = value` (or `name: T = value`) in a module or function scope."""

    name: str
    value: X | None
    annotation: X | None
    loc: Loc
    is_type_alias: bool = False  # PEP 695 `type X = ...`


@compact_pickle
@dataclass
class Import:
    """A local binding created by an import. `attr` is None for `import a.b [as c]`."""

    module: str  # absolute module name (relative imports already resolved)
    attr: str | None
    loc: Loc
    type_checking: bool = False


@compact_pickle
@dataclass
class ScopeCall:
    """A statement-level method call on a name that may set up routing:
    `X.include_router(...)`, `X.add_api_route(...)`, `X.add_api_websocket_route(...)`,
    `X.get("/")(func)`."""

    scope: str  # qualname of the enclosing function, "" at module level
    call: Call
    method: str
    decorated: X | None = None  # for `X.get(...)(func)`: the `func`


@compact_pickle
@dataclass
class ModuleFacts:
    module: str
    path: str
    is_package: bool
    imports: dict[str, dict[str, Import]] = field(default_factory=dict)  # scope -> name -> Import
    star_imports: list[str] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, Class] = field(default_factory=dict)
    assigns: dict[str, dict[str, list[Assign]]] = field(default_factory=dict)  # scope -> name -> [...]
    scope_calls: list[ScopeCall] = field(default_factory=list)
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)
    error: str | None = None  # FDL901 message when the file could not be read/parsed
    error_loc: Loc | None = None
    test_file: bool = False
    deferred: bool = False  # not parsed yet: the pre-scan found nothing FastAPI in it
    # deferred modules only: module-level `NAME = callee(...)` seen by the pre-scan (NAME -> callee)
    global_calls: dict[str, str] = field(default_factory=dict)
    # test files only: how many changes of `dependency_overrides` nothing in the file itself
    # undoes (0 also when it never mentions them); FDL601 parses again only the files where it
    # is not 0. None: not worked out (not a test file, or the count failed)
    open_overrides: int | None = None

    def scope_assigns(self, scope: str) -> dict[str, list[Assign]]:
        return self.assigns.get(scope, {})
