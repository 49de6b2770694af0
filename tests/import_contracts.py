"""An import-linter contract the stock ones cannot say: a domain's web modules are its own.

``forbidden`` and ``independence`` contracts take module expressions whose wildcards match independently, so
"``bidding.*`` imports no ``bidding.*.http``" would forbid a domain its own routes, and naming every domain would
leave a new one unwatched. This contract matches each domain package against every other (``make lint`` runs it
through ``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils
from importlinter.domain.helpers import module_expressions_to_modules


class OwnWebContract(Contract):
    """No module of one domain package imports another domain's web modules directly.

    - ``domains``: expressions of the domain packages (``bidding.*``; plain modules it matches are skipped).
    - ``web``: the names of web modules (``http``, ``pages``); a name also covers ``<anything>_<name>``
      (``admin_pages``) and everything under a package of that name.
    - ``ignore_imports``: known exceptions, as in the stock contracts.
    """

    type_name = "own_web"

    domains = fields.SetField(subfield=fields.ModuleExpressionField())
    web = fields.SetField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]  # the field's parsed value
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]  # likewise
        )
        domains = sorted(
            module.name
            for module in module_expressions_to_modules(graph, self.domains)  # type: ignore[arg-type]  # likewise
            if graph.find_children(module.name)
        )
        web: set[str] = self.web  # type: ignore[assignment]  # likewise
        violations: list[dict[str, Any]] = []
        for domain in domains:
            for importer in sorted({domain} | graph.find_descendants(domain)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    owner = next((other for other in domains if _within(imported, other)), None)
                    if owner in (None, domain) or not _is_web(imported.removeprefix(f"{owner}."), web):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = ", ".join(f"l.{detail['line_number']}" for detail in details)
                    violations.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not violations, warnings=list(removal.warnings), metadata={"found": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for found in check.metadata["found"]:
            output.print_error(f"{found['importer']} -> {found['imported']} ({found['lines']})", bold=False)
            output.new_line()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _is_web(path: str, web: set[str]) -> bool:
    """Whether ``path`` (a module's name inside its domain) is or lies in a web module."""
    return any(part in web or part.rsplit("_", 1)[-1] in web for part in path.split("."))


class LayersContract(Contract):
    """Within every domain package, each module's layer is read from its name, and no layer imports one above it.

    - ``domains``: expressions of the domain packages, as for :class:`OwnWebContract`.
    - ``layers``: from the top, each a list of names (``http``, ``pages``); a name also covers ``<anything>_<name>``
      (``search_repo``) and everything under a package of that name. A module matching no name is in ``default``.
    - ``default``: the layer of the other modules (a domain's use cases: ``service``, ``drafting``, ``hall``).
    - ``shell``: modules or packages wholly in the top layer (``bidding.web``; ``bidding.offline``, commands only).

    Imports are checked wherever they lead in ``bidding``, so that a use case importing another domain's repo is
    fine and one importing any web module is not; the suffix rule means a new module is placed without edits.
    """

    type_name = "layers"

    domains = fields.SetField(subfield=fields.ModuleExpressionField())
    layers = fields.ListField(subfield=fields.StringField())
    default = fields.StringField()
    shell = fields.SetField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]  # the field's parsed value
            unmatched_alerting=contract_utils.AlertLevel.ERROR,
        )
        # "http pages ws | repo_layer ..." : each entry of ``layers`` is one layer's names, separated by spaces.
        ranks = [set(str(layer).split()) for layer in self.layers]  # type: ignore[attr-defined]  # the parsed list
        default = str(self.default)
        shell: set[str] = self.shell or set()  # type: ignore[assignment]  # the parsed set
        domains = sorted(
            module.name
            for module in module_expressions_to_modules(graph, self.domains)  # type: ignore[arg-type]  # likewise
            if graph.find_children(module.name)
        )

        def rank(module: str) -> int | None:
            if any(_within(module, top) for top in shell):
                return 0
            owner = next((domain for domain in domains if _within(module, domain)), None)
            if owner is None or module == owner:
                return None
            path = module.removeprefix(f"{owner}.")
            for index, names in enumerate(ranks):
                if names != {default} and _is_web(path, names):
                    return index
            return next(index for index, names in enumerate(ranks) if default in names)

        violations: list[dict[str, Any]] = []
        for domain in domains:
            for importer in sorted(graph.find_descendants(domain)):
                importer_rank = rank(importer)
                if importer_rank is None:
                    continue
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    imported_rank = rank(imported)
                    if imported_rank is None or imported_rank >= importer_rank:
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = ", ".join(f"l.{detail['line_number']}" for detail in details)
                    violations.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not violations, warnings=list(removal.warnings), metadata={"found": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for found in check.metadata["found"]:
            output.print_error(f"{found['importer']} -> {found['imported']} ({found['lines']})", bold=False)
            output.new_line()
