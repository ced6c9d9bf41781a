"""Print the project's Python dependencies (and the named extras) from pyproject.toml.

The venv gets the dependencies only, never the project itself: every command runs
from the checkout, so a worktree or a fresh clone always runs its own code.
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
wanted = list(project["dependencies"])
for extra in sys.argv[1:]:
    wanted += project.get("optional-dependencies", {}).get(extra, [])
print("\n".join(wanted))
