"""A griffe extension: numpydoc's Sphinx roles in docstrings become cross-references the build checks.

The docstrings follow numpydoc and name other objects with Sphinx roles (:func:`gradient.run`,
:class:`~gradient.Options`, :mod:`.claims`). mkdocstrings renders those as literal text; this
extension rewrites each into a mkdocs-autorefs cross-reference (``[`run`][gradient.pipeline.run]``),
resolving relative and short names against the loaded package first, so ``mkdocs build
--strict`` fails on any reference to a name that does not exist.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|mod|data|meth|attr|exc|obj):`(~?)([^`<>]+?)`")


def _find(root: griffe.Object, path: str):
    """The object at a dotted path from the top package, following aliases; None if there is none."""
    parts = path.split(".")
    if not parts or parts[0] != root.name:
        return None
    obj = root
    for part in parts[1:]:
        try:
            obj = obj.members[part]
        except (KeyError, AttributeError):
            return None
        if isinstance(obj, griffe.Alias):
            try:
                obj = obj.final_target
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                return None
    return obj


def _resolve(root: griffe.Object, where: griffe.Object, target: str):
    """The object of the package a role names (following aliases), or None."""
    candidates = []
    module = where if where.is_module else where.module
    package = module if module.is_package else module.parent
    if target.startswith("."):
        base = package
        rest = target[1:]
        while rest.startswith("."):
            base, rest = base.parent, rest[1:]
        candidates.append(f"{base.path}.{rest}")
    else:
        candidates += [target, f"{module.path}.{target}", f"{package.path}.{target}", f"{root.name}.{target}"]
        if where.is_class or (where.parent is not None and where.parent.is_class):
            cls = where if where.is_class else where.parent
            candidates.insert(0, f"{cls.path}.{target}")
    for path in candidates:
        found = _find(root, path)
        if found is not None:
            return found
    return None


class CrossReferences(griffe.Extension):
    """Rewrite Sphinx roles into checked cross-references once the whole package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        """Rewrite every docstring of the package."""
        self._walk(pkg, pkg)

    def _walk(self, root: griffe.Object, obj: griffe.Object) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(lambda m: self._link(root, obj, m), obj.docstring.value)
        for member in obj.members.values():
            if not isinstance(member, griffe.Alias):
                self._walk(root, member)

    @staticmethod
    def _link(root: griffe.Object, obj: griffe.Object, m: re.Match) -> str:
        short, target = m.group(2) == "~", m.group(3).strip()
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        if m.group(1) in ("func", "meth"):
            shown += "()" if not shown.endswith(")") else ""
        found = _resolve(root, obj, target)
        if found is None:
            if target.split(".")[0] != root.name and not target.startswith("."):
                return f"`{shown}`"  # Python's or another library's: named, not linked
            return f"[`{shown}`][{target}]"  # a name of ours that does not exist: the strict build fails here
        if any(part.startswith("_") and not part.startswith("__") for part in found.path.split(".")):
            return f"`{shown}`"  # an internal of ours that exists: named, not part of the reference
        if found.is_attribute or not found.has_docstring:  # documented in its parent's docstring
            found = found.parent
        return f"[`{shown}`][{found.path}]"
