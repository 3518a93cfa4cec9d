"""The layout keeps its promises (README, "How the code is laid out"): no module uses another
package's private names, the portal's tab never imports the embedded API, and the API never the tab."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "webhooks_app", "management_api", "audit", "demo_receiver", "identity")
# Who may not import whom: the tab speaks to the API only as to an upstream AutoQL (over its
# client), and the API knows nothing of the tab.
FORBIDDEN = {"webhooks_app": {"management_api"}, "management_api": {"webhooks_app"}}


def modules() -> list[Path]:
    return [
        path for app in (*APPS, "benchmarks") for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
    ]


def imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_imports_a_private_name_of_another_package(path):
    own = path.relative_to(ROOT).parts[0]
    for module, names in imports(path):
        if module.split(".")[0] == own:
            continue
        private = [name for name in names if name.startswith("_")]
        private_module = [part for part in module.split(".") if part.startswith("_") and not part.startswith("__")]
        assert not private and not private_module, f"{path.name} imports {module}: {private or private_module}"


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_tab_and_the_api_stay_apart(path):
    own = path.relative_to(ROOT).parts[0]
    for module, _ in imports(path):
        assert module.split(".")[0] not in FORBIDDEN.get(own, set()), f"{path} imports {module}"
