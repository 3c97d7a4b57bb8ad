#!/usr/bin/env python3
"""The lean_link_<binary> tests (cmake/LeanLinking.cmake): how much code a service binary
takes from the static libstdc++, read from the linker's map of that binary.

All of a service's own text is resident (startup touches nearly every 64 KB of it), so code
linked and never run still costs RSS. Three small uses of iostreams once brought libstdc++'s
locale facets in, about 320 kB of code in every service (16d0129); this test fails when
something brings them, or anything that large, back, and names the archive members.

It also fails when the binary needs a shared library it should not (its NEEDED entries,
from `readelf -d`): libm, whose ~300 kB of RSS every service once paid for a single llround
(money.cpp). The linker's --as-needed keeps a library any object file refers to, even in
code --gc-sections drops later; the map's "As-needed library included" part names that file
and symbol, and the failure quotes it.

usage: check_lean_link.py MAP_FILE LIMIT_BYTES BINARY
"""

import re
import subprocess
import sys

# An input section in the memory map: " .text.name  0xADDRESS  0xSIZE  file", or the section's
# name alone on its line when it is long, with the rest on the next line.
SECTION = re.compile(r"^ (\.text\S*)(?:\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\S.*))?$")
REST = re.compile(r"^\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\S.*)$")


def code_by_input(map_text):
    """{input file: bytes of code kept from it}, from the map's memory map part."""
    _, sep, memory_map = map_text.partition("Linker script and memory map")
    if not sep:
        raise ValueError("not a GNU ld map file (no memory map)")
    sizes = {}
    lines = memory_map.splitlines()
    for i, line in enumerate(lines):
        m = SECTION.match(line)
        if not m:
            continue
        size, source = m.group(2), m.group(3)
        if size is None:
            rest = REST.match(lines[i + 1]) if i + 1 < len(lines) else None
            if not rest:
                continue
            size, source = rest.groups()
        sizes[source] = sizes.get(source, 0) + int(size, 16)
    return sizes


# Shared libraries no lean binary may need (their soname prefix), and why.
UNWANTED_LIBRARIES = {"libm.so": "libm, ~300 kB of RSS; round with integers or in text instead"}

# A line of the map's as-needed part: "libpq.so.5   file (symbol)"; a long soname stands
# alone on its line, with the rest on the next.
AS_NEEDED = re.compile(r"^(lib\S+\.so(?:\.\d+)*)(?:\s+(\S.*))?$")


def as_needed_reasons(map_text):
    """{library: "file (symbol)"} from the map's as-needed part: who made each one needed."""
    _, sep, rest = map_text.partition("As-needed library included to satisfy reference by file (symbol)")
    if not sep:
        return {}
    lines = rest.lstrip("\n").splitlines()
    reasons = {}
    for i, line in enumerate(lines):
        if not line.strip():
            break
        m = AS_NEEDED.match(line)
        if not m:
            continue  # ld's notes in between ("discarding zero address range FDE ...")
        reason = m.group(2) or (lines[i + 1].strip() if i + 1 < len(lines) else "")
        reasons[m.group(1)] = reason
    return reasons


def needed_libraries(binary):
    """The binary's NEEDED sonames, from readelf -d."""
    out = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def unwanted_libraries(needed, reasons):
    """A line for each unwanted library the binary needs, with who made it needed."""
    return [f"{library} ({why}), needed by {reasons.get(library, 'a reference the map does not name')}"
            for library in needed
            for prefix, why in UNWANTED_LIBRARIES.items() if library.startswith(prefix)]


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path, limit, binary = argv[1], int(argv[2]), argv[3]
    with open(path, encoding="utf-8", errors="replace") as f:
        map_text = f.read()
    sizes = code_by_input(map_text)
    total = sum(sizes.values())
    if total == 0:
        print(f"FAIL: {path}: no code sections found (has the map's format changed?)")
        return 1
    std = {src: n for src, n in sizes.items() if "libstdc++.a(" in src}
    taken = sum(std.values())
    print(f"{path}: {taken:,} of {total:,} bytes of code from libstdc++ (limit {limit:,})")
    unwanted = unwanted_libraries(needed_libraries(binary), as_needed_reasons(map_text))
    for line in unwanted:
        print(f"FAIL: needs {line}")
    if taken <= limit:
        return 1 if unwanted else 0
    print(f"FAIL: over the limit by {taken - limit:,} bytes; the largest members:")
    for src, n in sorted(std.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {n:>9,}  {src.rsplit('/', 1)[-1]}")
    print("The map's \"Archive member included to satisfy reference by file\" part names who asked.")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
