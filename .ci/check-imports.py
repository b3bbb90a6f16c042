#!/usr/bin/env python3
"""Fails if the crate's modules import each other in a loop.

Reads every `crate::…` path in `src/` (doc comments, comments and the
`#[cfg(test)] mod tests` blocks left out), resolves names that `lib.rs`
re-exports to the module that defines them, and looks for cycles among the
top-level modules (`codec` and its files count as one). Prints the edges
with `-v`. Data flows one way: request -> per-request state -> response.
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    cut = text.find("#[cfg(test)]\nmod tests")
    return text if cut < 0 else text[:cut]


def top_module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def reexports(lib: str) -> dict:
    """`pub use crate::module::{A, B}` in lib.rs: name -> module."""
    names = {}
    for module, group in re.findall(r"pub use crate::(\w+)(?:::\w+)*::\{([^}]*)\}", lib):
        for name in re.split(r"[,\s]+", group):
            if name:
                names[name.split(" as ")[-1]] = module
    for module, name in re.findall(r"pub use crate::(\w+)(?:::\w+)*::(\w+);", lib):
        names[name] = module
    return names


def paths(text: str):
    """Every `crate::…` path, `use crate::{a::B, C}` groups expanded."""
    for group in re.findall(r"crate::\{([^;]*)\}", text):
        for item in re.split(r",\s*(?![^{]*\})", group):
            item = item.strip()
            if item:
                yield item.split("::")[0].strip("{} ")
    for first in re.findall(r"crate::(\w+)", text):
        yield first


def main() -> int:
    lib = strip((SRC / "lib.rs").read_text())
    names = reexports(lib)
    modules = {top_module(p) for p in SRC.rglob("*.rs")} - {"lib"}
    edges = {m: set() for m in modules}
    for path in SRC.rglob("*.rs"):
        source = top_module(path)
        if source == "lib":
            continue
        for first in paths(strip(path.read_text())):
            target = first if first in modules else names.get(first)
            if target and target != source:
                edges[source].add(target)
    if "-v" in sys.argv:
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m])) or '(none)'}")
    cycles = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for m in sorted(modules):
        if m not in state:
            visit(m, [])
    if cycles:
        for c in cycles:
            print("import cycle: " + " -> ".join(c), file=sys.stderr)
        return 1
    print(f"no import cycle among {len(modules)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
