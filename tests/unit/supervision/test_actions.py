"""Every action the platform can write into the audit trail has a name in the console's table."""

from __future__ import annotations

import ast
from pathlib import Path

from bidding.audit.model import ACTION_PATTERN
from bidding.opening import model as opening_model
from bidding.supervision.actions import ACTION_NAMES

PACKAGE = Path(__file__).resolve().parents[3] / "bidding"
#: Actions made from a template, and every value the template can take.
TEMPLATES = {
    "bid.{line['outcome']}": [
        f"bid.{outcome}" for outcome in (opening_model.OPENED, opening_model.REVOKED, opening_model.WITHDRAWN)
    ],
    "invitation.{outcome}": [f"invitation.{outcome}" for outcome in ("accepted", "declined", "declared", "recused")],
}


def _constants(node: ast.AST) -> list[str]:
    return [found.value for found in ast.walk(node) if isinstance(found, ast.Constant) and isinstance(found.value, str)]


def _passed(tree: ast.AST, function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str) -> list[str]:
    """The literals that the calls of ``function`` in its module pass as ``parameter`` (a helper's action)."""
    position = [argument.arg for argument in function.args.args].index(parameter)
    passed = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function.name:
            given = call.args[position] if len(call.args) > position else None
            given = given or next((k.value for k in call.keywords if k.arg == parameter), None)
            assert isinstance(given, ast.Constant), f"{function.name}() is called with an action not written out"
            passed.append(given.value)
    return passed


def _actions_written() -> set[str]:
    """The third argument of every call of ``event(...)``: a literal, a template, a name assigned literals, or the
    parameter of a helper called with literals."""
    actions: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        for function in functions:
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "event"):
                    continue
                assert len(call.args) >= 3, f"{path}: event() takes the action third"
                action = call.args[2]
                if isinstance(action, ast.Constant):
                    actions.add(action.value)
                elif isinstance(action, ast.JoinedStr):
                    template = ast.unparse(action)[2:-1]
                    assert template in TEMPLATES, f"{path}: add the values of the action {template!r} to TEMPLATES"
                    actions.update(TEMPLATES[template])
                elif isinstance(action, ast.Name) and action.id in [a.arg for a in function.args.args]:
                    actions.update(_passed(tree, function, action.id))
                elif isinstance(action, ast.Name):
                    assigned = [
                        value
                        for node in ast.walk(function)
                        if isinstance(node, ast.Assign)
                        and any(isinstance(target, ast.Name) and target.id == action.id for target in node.targets)
                        for value in _constants(node.value)
                    ]
                    assert assigned, f"{path}: the action {action.id} is not assigned literals in its function"
                    actions.update(assigned)
                else:
                    raise AssertionError(f"{path}:{call.lineno}: an action this test cannot read")
    return actions


def test_every_action_the_code_writes_has_a_name() -> None:
    written = _actions_written()
    assert {"user.signed_in", "tender.published", "bid.submitted", "bid.replaced", "bid.opened"} <= written
    assert sorted(written - ACTION_NAMES.keys()) == []


def test_every_named_action_is_one_the_code_writes_and_looks_like_an_action() -> None:
    assert sorted(ACTION_NAMES.keys() - _actions_written()) == []
    assert all(ACTION_PATTERN.fullmatch(action) for action in ACTION_NAMES)
