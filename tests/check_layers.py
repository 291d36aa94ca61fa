#!/usr/bin/env python3
"""Checks that src/ folders include only their own headers and those of lower layers.

The layers are the table under "## Layers" in docs/ARCHITECTURE.md (rows `| N | `a`, `b` | ... |`), so the
document and the check cannot drift apart. Every folder of src/ must be in the table. Public headers
(include/sightflow) and third-party headers are the vocabulary every layer shares and are not checked.
Exits 1 naming each offending include (file:line), or an unlisted folder.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
doc = (root / "docs" / "ARCHITECTURE.md").read_text()
section = doc.split("## Layers", 1)
if len(section) != 2:
    sys.exit("docs/ARCHITECTURE.md has no '## Layers' section")

layer_of = {}
for row in re.finditer(r"^\|\s*(\d+)\s*\|([^|]*)\|", section[1], re.M):
    for folder in re.findall(r"`([a-z_]+)`", row.group(2)):
        layer_of[folder] = int(row.group(1))
if not layer_of:
    sys.exit("docs/ARCHITECTURE.md: the Layers table lists no folder")

problems = []
include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
for path in sorted((root / "src").rglob("*.[ch]pp")):
    folder = path.relative_to(root / "src").parts[0]
    if folder not in layer_of:
        problems.append(f"src/{folder}/ is not in the Layers table of docs/ARCHITECTURE.md")
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = include.match(line)
        if not m or m.group(1) in ("sightflow", folder):
            continue
        target = m.group(1)
        if target not in layer_of:
            problems.append(f"{path.relative_to(root)}:{number}: includes {target}/, which is in no layer")
        elif layer_of[target] >= layer_of[folder]:
            problems.append(
                f"{path.relative_to(root)}:{number}: {folder}/ (layer {layer_of[folder]}) includes "
                f"{target}/ (layer {layer_of[target]}); only lower layers may be included")

for p in dict.fromkeys(problems):
    print(p)
print(f"{len(layer_of)} folders in layers, {len(set(problems))} problem(s)")
sys.exit(1 if problems else 0)
