#!/usr/bin/env bash
# Every protocol fact the code relies on is cited as `docs/spec/<file>.md §N` (or `<file>.md
# section N`, `<file>.md N.M`, with or without the docs/spec/ prefix). This check keeps those
# citations honest: the cited file must exist under docs/spec/, and each cited section number
# must be the number of a heading in it. It also refuses paths that point outside the repository
# for the spec (the spec lives in docs/spec/ and nowhere else).
# Exit 0 when every citation resolves; exit 1 naming file:line for each one that does not.
# `--list` also prints every citation found with the sections read from it.
set -euo pipefail
cd "$(dirname "$0")/.."

exec python3 - "$@" <<'PY'
import os
import re
import sys

SPEC_DIR = "docs/spec"
SCAN = ["crates", "fuzz/src", "fuzz/fuzz_targets", "scripts", "README.md", "Dockerfile", "docs"]
SKIP_DIRS = {"target", ".git", "node_modules", "corpus", "artifacts"}
TEXT_SUFFIXES = (".rs", ".md", ".sh", ".toml", ".proto", ".txt", ".json", ".yml", ".yaml", ".py")

# Spec files may be named without the docs/spec/ prefix; these are the stems that count then.
BARE_STEMS = ["profiles", "vectors", "wire-45", "node-behaviour", "warp", "luxd-zap",
              "warp-vectors", "luxd-zap-vectors"]
FILE_RE = re.compile(
    r"(?<![\w./-])(?:docs/spec/(?P<prefixed>[\w.-]+?\.(?:md|json|txt))"
    r"|(?P<bare>(?:" + "|".join(re.escape(s) for s in BARE_STEMS) + r")\.(?:md|json|txt)))"
    r"(?![\w-])"
)
NUMBER = r"(\d+(?:\.\d+)*)"
# What may follow a file name: `'s`, then `§N`, `§§N`, `section N`, `sections N` or a bare `N`.
FIRST_SECTION_RE = re.compile(r"(?:'s)?[ \t]*(?:§+[ \t]*|sections?[ \t]+)?" + NUMBER + r"(?![\w])")
# Further numbers of the same citation: `, N`, ` and N`, `–N` (a range), `/N`.
MORE_SECTION_RE = re.compile(r"[ \t]*(?:,|and|–|-|/)[ \t]*(?:§+[ \t]*|sections?[ \t]+)?" + NUMBER + r"(?!\w)")
# A file name that ends its line, alone or followed by `§` or `section(s)`: the numbers follow
# on the next line.
DANGLING_RE = re.compile(r"(?:'s)?[ \t]*(?:§+|sections?)?[ \t]*")
COMMENT_LEAD_RE = re.compile(r"^\s*(?://[/!]?|#+|\*|--|;)?\s*")
HEADING_RE = re.compile(r"^#{1,6}[ \t]+§?(\d+(?:\.\d+)*)\.?(?:[ \t]|$)")
# A paragraph that opens with its number in bold (`**4.3 BuildBlock**`) is a section too: the
# worked examples are labelled that way.
BOLD_LABEL_RE = re.compile(r"^\*\*§?(\d+\.\d+(?:\.\d+)*)[ \t]")
# Assembled so that this script does not match itself.
FORBIDDEN = ["shared" + "/spec", "../" + "shared"]


def files_to_scan():
    for root in SCAN:
        if os.path.isfile(root):
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(TEXT_SUFFIXES) or name in ("Dockerfile",):
                    yield os.path.join(dirpath, name)


_headings = {}


def headings_of(spec_file):
    """The section numbers that have a heading in docs/spec/<spec_file> (None if it is missing)."""
    if spec_file not in _headings:
        path = os.path.join(SPEC_DIR, spec_file)
        if not os.path.isfile(path):
            _headings[spec_file] = None
        else:
            numbers = set()
            in_fence = False
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.lstrip().startswith("```"):
                        in_fence = not in_fence
                        continue
                    m = None if in_fence else (HEADING_RE.match(line) or BOLD_LABEL_RE.match(line))
                    if m:
                        numbers.add(m.group(1))
            _headings[spec_file] = numbers
    return _headings[spec_file]


def cited_sections(rest, next_line):
    """Section numbers cited right after a file name; `rest` is the text after it on its line.
    A citation broken over two comment lines continues on `next_line`."""
    if next_line is not None and DANGLING_RE.fullmatch(rest):
        rest = rest.rstrip() + " " + COMMENT_LEAD_RE.sub("", next_line, count=1)
    m = FIRST_SECTION_RE.match(rest)
    if not m:
        return []
    sections = [m.group(1)]
    pos = m.end()
    while True:
        m = MORE_SECTION_RE.match(rest, pos)
        if not m:
            break
        sections.append(m.group(1))
        pos = m.end()
    return sections


def main():
    listing = "--list" in sys.argv[1:]
    failures = []
    citations = 0
    for path in files_to_scan():
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except UnicodeDecodeError:
            continue
        for index, line in enumerate(lines):
            where = f"{path}:{index + 1}"
            for bad in FORBIDDEN:
                if bad in line:
                    failures.append(f"{where}: path outside the repository ({bad!r}); cite docs/spec/ instead")
            for m in FILE_RE.finditer(line):
                spec_file = m.group("prefixed") or m.group("bare")
                citations += 1
                numbers = headings_of(spec_file)
                if numbers is None:
                    failures.append(f"{where}: cites {spec_file}, which does not exist under {SPEC_DIR}/")
                    continue
                next_line = lines[index + 1] if index + 1 < len(lines) else None
                sections = cited_sections(line[m.end():], next_line)
                if listing:
                    print(f"{where}: {spec_file} {' '.join('§' + s for s in sections)}")
                for section in sections:
                    if section not in numbers:
                        failures.append(f"{where}: cites {spec_file} §{section}, which has no heading there")
    for failure in failures:
        print(failure)
    if failures:
        print(f"check-citations: {len(failures)} unresolved of {citations} citations", file=sys.stderr)
        return 1
    print(f"check-citations: all {citations} citations resolve", file=sys.stderr)
    return 0


sys.exit(main())
PY
