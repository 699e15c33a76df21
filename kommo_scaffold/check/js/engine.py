"""V8, through mini-racer: the browser's own verdict on a widget's JavaScript, and the widget
constructed as Kommo constructs it.

Chromium runs V8, so V8's parser is the reference: a file V8 refuses is a file the browser
refuses, with the same message and position the browser console shows. mini-racer has no
compile-only call, so each file is evaluated as a classic script on a page (harness.js) where
``define`` only records the module, nothing else of the widget runs, and a time and memory
limit bound what top-level code may do. Then script.js's AMD factory runs with stand-ins for
the modules Kommo's page provides, and its constructor with ``this`` holding Kommo's widget
methods; what throws there, and ``this.callbacks`` as Kommo sees it, are read back as JSON.

mini-racer is imported here, when a check needs it (about 0.04 s, plus 0.05 s for a
context), and in check.js.worker, which loads V8 ahead. The context is always closed: an
unclosed one can hang the interpreter at exit.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

TIMEOUT_SEC = 2.0
MAX_MEMORY = 256 * 1024 * 1024
_SOURCE_URL = "\n//# sourceURL={}"
# "<anonymous>:4: SyntaxError: Unexpected identifier 'init'\n    init: 1\n    ^^^^"
_PARSE = re.compile(r"^[^\n]*?:(\d+): ([^\n]*)\n([^\n]*)\n( *)\^", re.S)
_RUNTIME = re.compile(r"^([^\n]*?):(\d+): (\w*(?:Error|Exception)?):? ?([^\n]*)")


@dataclass(frozen=True)
class SyntaxProblem:
    message: str  # as the console prints it after "Uncaught ", e.g. "SyntaxError: ..."
    line: int
    column: int


@dataclass(frozen=True)
class Failure:
    """Something threw while Kommo would load or construct the widget."""

    stage: str  # "load" (top-level code), "factory" (the define callback), "constructor"
    name: str  # TypeError, ReferenceError, ...
    message: str
    file: str | None
    line: int
    column: int


@dataclass(frozen=True)
class Entry:
    kind: str  # "function", "object" or "other"
    source: str = ""  # the function's source text (the bound function's target)
    bound: bool = False


@dataclass
class Run:
    syntax: dict[str, SyntaxProblem] = field(default_factory=dict)
    # script.js's define() calls while it loaded: (anonymous, line)
    defines: list[tuple[bool, int]] = field(default_factory=list)
    # file -> the dependency lists of its define() calls
    deps: dict[str, list[list[str]]] = field(default_factory=dict)
    failure: Failure | None = None
    factory_type: str | None = None  # what script.js's factory returned, if not a function
    callbacks_type: str | None = None
    callbacks: dict[str, Entry] | None = None
    unfinished: str | None = None  # the time or memory limit stopped the run
    loaded: list[str] = field(default_factory=list)  # files evaluated as script.js's graph

    def to_json(self) -> dict[str, Any]:
        """As JSON, for the page that runs in a process of its own (check.js.worker)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        failure = data["failure"]
        callbacks = data["callbacks"]
        return cls(syntax={name: SyntaxProblem(**problem)
                           for name, problem in data["syntax"].items()},
                   defines=[(bool(anonymous), int(line)) for anonymous, line in data["defines"]],
                   deps=data["deps"],
                   failure=Failure(**failure) if failure is not None else None,
                   factory_type=data["factory_type"], callbacks_type=data["callbacks_type"],
                   callbacks=None if callbacks is None else
                   {name: Entry(**entry) for name, entry in callbacks.items()},
                   unfinished=data["unfinished"], loaded=data["loaded"])


@cache
def _harness() -> str:
    return (resources.files("kommo_scaffold.check.js") / "harness.js").read_text("utf-8")


@cache
def browser_globals() -> tuple[str, ...]:
    text = (resources.files("kommo_scaffold.check.js") / "browser_globals.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


def _syntax(text: str, error: Exception) -> SyntaxProblem:
    raw = str(error)
    found = _PARSE.match(raw)
    if found is None:
        head = raw.split("\n", 1)[0]
        return SyntaxProblem(head.split(": ", 1)[-1] or "SyntaxError", 1, 1)
    line, column = int(found.group(1)), len(found.group(4)) + 1
    lines = text.split("\n")
    if line > len(lines):  # the end of input, past the sourceURL line we added
        line, column = len(lines), len(lines[-1]) + 1
    return SyntaxProblem(found.group(2), line, column)


def _runtime(error: Exception, stage: str) -> Failure:
    raw = str(error)
    found = _RUNTIME.match(raw)
    if found is None:
        return Failure(stage, "Error", raw.split("\n", 1)[0], None, 0, 0)
    file, line = found.group(1), int(found.group(2))
    column = re.search(rf"\(?{re.escape(file)}:{line}:(\d+)\)?", raw)
    return Failure(stage, found.group(3) or "Error", found.group(4),
                   None if file == "<anonymous>" else file, line,
                   int(column.group(1)) if column else 0)


def relative_path(dep: str, owner: str) -> str | None:
    """The widget file a relative AMD id names (plugin prefix and query dropped)."""
    bare = re.sub(r"^[\w-]+!", "", dep).split("?", 1)[0].split("#", 1)[0]
    if not bare.startswith(("./", "../")):
        return None
    import posixpath

    path = posixpath.normpath(posixpath.join(posixpath.dirname(owner), bare))
    if "!" in dep.split("/", 1)[0] or path.endswith(".js"):
        return path
    return f"{path}.js"


class Page:
    """A V8 context with the harness, made on a thread of its own as soon as it is created
    (importing mini-racer and starting V8 take longer than reading a widget, so the checker
    starts a page first); used once by ``run``, or closed unused.

    Every call into V8 runs on a thread of its own: mini-racer adopts a thread's running
    asyncio loop (a Playwright or prompt_toolkit caller has one) and then refuses a blocking
    eval."""

    def __init__(self) -> None:
        import threading

        self._v8: Any = None
        self._error: BaseException | None = None
        self._closed = False
        self._running: Any = None
        self._outcome: Run | BaseException | None = None
        self._booting = threading.Thread(target=self._boot, name="kommo-check-v8", daemon=True)
        self._booting.start()

    def _boot(self) -> None:
        try:
            from py_mini_racer import MiniRacer

            v8 = MiniRacer()
            try:
                v8.eval(_harness(), timeout_sec=TIMEOUT_SEC, max_memory=MAX_MEMORY)
            except BaseException:
                v8.close()
                raise
            self._v8 = v8
        except BaseException as error:  # handed to the thread that runs the page
            self._error = error

    def start(self, scripts: dict[str, str], config: dict[str, Any]) -> None:
        """Evaluate every file of ``scripts`` (name -> text), script.js and the files it
        loads first, then construct the widget, while the caller goes on; ``config`` holds
        code, version, fields, langs, texts. The page is closed afterwards."""
        import threading

        if self._running is not None:
            raise RuntimeError("the V8 page was used already")

        def work() -> None:
            try:
                self._booting.join()
                if self._error is not None or self._closed:
                    raise self._error or RuntimeError("the V8 page was closed")
                self._outcome = _run(self._v8, scripts, config)
            except BaseException as error:  # handed to the thread that asks for the result
                self._outcome = error
            finally:
                self.close()

        self._running = threading.Thread(target=work, name="kommo-check-v8", daemon=True)
        self._running.start()

    def result(self) -> Run:
        """What ``start`` found, once it is done."""
        if self._running is None:
            raise RuntimeError("the V8 page was not started")
        self._running.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome

    def run(self, scripts: dict[str, str], config: dict[str, Any]) -> Run:
        """``start`` and ``result``."""
        self.start(scripts, config)
        return self.result()

    def close(self) -> None:
        """Close the context (an unclosed one can hang the interpreter at exit)."""
        self._booting.join()
        self._closed = True
        if self._v8 is not None:
            v8, self._v8 = self._v8, None
            v8.close()


def new_page() -> Any:
    """The V8 page for one check: the worker process forked as the command started
    (check.js.worker), or a page in this process."""
    from kommo_scaffold.check.js import worker

    return worker.take() or Page()


def run(scripts: dict[str, str], config: dict[str, Any]) -> Run:
    """``Page().run(scripts, config)``."""
    return Page().run(scripts, config)


def _run(v8: Any, scripts: dict[str, str], config: dict[str, Any]) -> Run:
    from py_mini_racer import (
        JSEvalException,
        JSOOMException,
        JSParseException,
        JSTimeoutException,
    )

    result = Run()
    limits = {"timeout_sec": TIMEOUT_SEC, "max_memory": MAX_MEMORY}
    order = ["script.js"] if "script.js" in scripts else []
    v8.eval("__kommo.setup(" + json.dumps({**config, "globals": browser_globals()}) + ")",
            **limits)

    def evaluate(name: str, graph: bool) -> bool:
        text = scripts[name]
        try:
            v8.eval("__kommo.file = " + json.dumps(name), **limits)
            v8.eval(text + _SOURCE_URL.format(name.replace("\n", " ")), **limits)
        except JSParseException as error:
            result.syntax[name] = _syntax(text, error)
            return False
        except (JSTimeoutException, JSOOMException) as error:
            if graph:
                result.unfinished = f"{name}: {type(error).__name__}"
            return False
        except JSEvalException as error:
            if graph and result.failure is None:
                result.failure = _runtime(error, "load")
            return False
        return True

    queue = list(order)
    seen: set[str] = set()
    while queue:
        name = queue.pop(0)
        if name in seen or name not in scripts:
            continue
        seen.add(name)
        result.loaded.append(name)
        if not evaluate(name, graph=True):
            continue
        recorded = json.loads(v8.eval(
            f"JSON.stringify((__kommo.defines[{json.dumps(name)}] || []).map("
            "function (d) { return [d.name === null, d.line, d.deps]; }))", **limits))
        result.deps[name] = [deps for _, _, deps in recorded]
        if name == "script.js":
            result.defines = [(bool(anonymous), int(line)) for anonymous, line, _ in recorded]
        for deps in result.deps[name]:
            queue += [path for dep in deps if (path := relative_path(dep, name))
                      and path.endswith(".js")]
    if result.failure is None and result.unfinished is None and "script.js" in seen \
            and "script.js" not in result.syntax:
        try:
            answer = json.loads(v8.eval("__kommo.construct()", **limits))
        except (JSTimeoutException, JSOOMException) as error:
            result.unfinished = f"constructing the widget: {type(error).__name__}"
        except JSEvalException as error:
            result.failure = _runtime(error, "constructor")
        else:
            _read_answer(result, answer)
    for name in sorted(scripts):
        if name not in seen:
            evaluate(name, graph=False)
    return result


def _read_answer(result: Run, answer: dict[str, Any]) -> None:
    failure = answer.get("failure")
    if failure:
        result.failure = Failure(failure["stage"], failure["name"], failure["message"],
                                 failure["file"], int(failure["line"]), int(failure["column"]))
    result.factory_type = answer.get("factoryType")
    result.callbacks_type = answer.get("callbacksType")
    callbacks = answer.get("callbacks")
    if isinstance(callbacks, dict):
        result.callbacks = {name: Entry(entry["kind"], entry.get("source", ""),
                                        bool(entry.get("bound")))
                            for name, entry in callbacks.items()}
