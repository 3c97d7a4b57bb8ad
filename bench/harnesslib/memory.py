"""Where a service's anonymous memory is, from /proc/<pid>/smaps: what limits idle RSS."""

from .proc import rss_kb
from .state import SERVICES

# glibc's thread arenas are heaps of 64 MiB (HEAP_MAX_SIZE), each mapped at a multiple of
# its size (is_arena).
ARENA_ALIGN = 64 << 20
# A thread's stack is one mapping of the stack size (RLIMIT_STACK when the process started;
# glibc's 32 MiB when unlimited) less its guard page, which is a mapping of its own.
# The parts anon_parts counts, in the report's order: key, name, what the table adds.
PARTS = (("malloc", "malloc heap and arenas", ""), ("stacks", "thread stacks", ""),
         ("files", "pages written in mapped files", " (relocations, data)"),
         ("other", "other", " (mmap'd blocks)"))
DEFAULT_STACK_KB = 8 << 10
UNLIMITED_STACK_KB = 32 << 10
STACK_SLACK_KB = 64


def stack_kb(limits_text):
    """The threads' stack size in kB from /proc/<pid>/limits ("Max stack size")."""
    for line in limits_text.splitlines():
        if line.startswith("Max stack size"):
            soft = line[len("Max stack size"):].split()[0]
            return UNLIMITED_STACK_KB if soft == "unlimited" else int(soft) >> 10
    return DEFAULT_STACK_KB


def mappings(smaps_text):
    """[start, end, perms, name, anonymous kB] of each mapping of smaps, in address order."""
    out = []
    for line in smaps_text.splitlines():
        head = line.split(None, 5)
        # A mapping's line starts with its address range; its fields' lines with "Name:".
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(x, 16) for x in head[0].split("-"))
            out.append([start, end, head[1], head[5].strip() if len(head) > 5 else "", 0])
        elif line.startswith("Anonymous:") and out:
            out[-1][4] += int(line.split()[1])
    return out


def is_arena(maps, i):
    """A glibc thread arena: unnamed, at a multiple of 64 MiB, read-write for what it uses and
    PROT_NONE for the rest of its 64 MiB (an aligned block without that rest is not)."""
    start, end, _, name, _ = maps[i]
    if name or start % ARENA_ALIGN:
        return False
    if end - start == ARENA_ALIGN:
        return True
    rest = maps[i + 1] if i + 1 < len(maps) else None
    return bool(rest) and rest[0] == end and rest[2].startswith("---") and not rest[3] and rest[1] == start + ARENA_ALIGN


def mapping_kind(maps, i, stack_size_kb):
    """One of anon_parts' parts for the i-th of `maps`."""
    start, end, _, name, _ = maps[i]
    if name == "[heap]" or is_arena(maps, i):
        return "malloc"
    if name == "[stack]" or (not name and abs(((end - start) >> 10) - stack_size_kb) <= STACK_SLACK_KB):
        return "stacks"
    if name.startswith("/"):
        return "files"
    return "other"


def anon_parts(smaps_text, stack_size_kb=DEFAULT_STACK_KB):
    """A process's anonymous kB by where they are: malloc's heap and glibc's thread arenas,
    thread stacks, pages written in mapped files (its binary's and libraries' relocations and
    data), and the rest (mmap'd blocks). The gateway's mimalloc reserves its arena the same
    way, aligned with a PROT_NONE rest up to 64 MiB, and counts as malloc too."""
    parts = {key: 0 for key, _, _ in PARTS}
    maps = mappings(smaps_text)
    for i, m in enumerate(maps):
        parts[mapping_kind(maps, i, stack_size_kb)] += m[4]
    return parts


def anon_parts_mb(pid):
    """anon_parts of a running process in MB, with its thread count; None once it is gone."""
    try:
        with open(f"/proc/{pid}/limits") as f:
            stack_size = stack_kb(f.read())
        with open(f"/proc/{pid}/smaps") as f:
            parts = anon_parts(f.read(), stack_size)
    except OSError:
        return None
    out = {k: round(v / 1024, 1) for k, v in parts.items()}
    out["threads"] = rss_kb(pid, "Threads")
    return out


def anon_parts_table(rts):
    """Each running service's anon_parts_mb."""
    return {n: parts for n in SERVICES if n in rts and (parts := anon_parts_mb(rts[n]))}
