"""Copy the browser workspace's front-end assets from npm into the package.

Run from anywhere as ``python web/build.py``: it runs ``npm ci --ignore-scripts`` in
``web/`` (the versions pinned in ``package.json`` and ``package-lock.json``), then copies
only the files the page loads, and each package's licence, into
``bot/platforms/web/static/vendor/<package>/``, and writes ``vendor/VENDOR.json`` (package,
version, SPDX licence, registry tarball path, lockfile integrity, each file's SHA-256).

``python web/build.py --check`` builds into a temporary folder instead and exits 1,
naming each file that differs, when the committed vendor folder is not what the pinned
packages give (CI runs it). The output is deterministic: no timestamps, sorted keys.

Two files are changed on the way, both recorded in VENDOR.json under ``modified``:
KaTeX's CSS keeps only the woff2 sources of its ``@font-face`` rules (only woff2 fonts
ship), and markdown-it's minified script loses its ``sourceMappingURL`` comment (the map
is not shipped, so a browser's developer tools would ask for a missing file).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
VENDOR = ROOT / "bot" / "platforms" / "web" / "static" / "vendor"
MODULES = WEB / "node_modules"


@dataclass(frozen=True)
class Pick:
    """One shipped file: its path in the npm package and its name under vendor/<package>/."""

    source: str
    target: str


@dataclass(frozen=True)
class Package:
    """An npm package whose files ship; ``bundled_in`` names the package whose script holds it."""

    name: str
    picks: tuple[Pick, ...]
    globs: tuple[tuple[str, str], ...] = ()  # (glob in the package, target folder)
    bundled_in: str | None = None
    modified: dict[str, str] = field(default_factory=dict)


def _licence(name: str) -> Pick:
    """The package's licence file, whatever its spelling, shipped as ``LICENSE``."""
    folder = MODULES / name
    for candidate in sorted(folder.iterdir()):
        if candidate.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            return Pick(candidate.name, "LICENSE")
    raise SystemExit(f"web/build.py: {name} ships no licence file")


def packages() -> list[Package]:
    """What ships, package by package (read after ``npm ci``: licence names vary)."""
    return [
        Package(
            "katex",
            (
                Pick("dist/katex.min.js", "katex.min.js"),
                Pick("dist/katex.min.css", "katex.min.css"),
                _licence("katex"),
            ),
            globs=(("dist/fonts/*.woff2", "fonts"),),
            modified={"katex.min.css": "@font-face sources trimmed to woff2 (only woff2 ships)"},
        ),
        Package(
            "markdown-it",
            (
                Pick("dist/browser/markdown-it.umd.min.js", "markdown-it.min.js"),
                _licence("markdown-it"),
            ),
            modified={"markdown-it.min.js": "sourceMappingURL comment removed (no map ships)"},
        ),
        # markdown-it's browser build bundles these; their licences travel with it.
        *(
            Package(dep, (_licence(dep),), bundled_in="markdown-it")
            for dep in ("entities", "linkify-it", "mdurl", "punycode.js", "uc.micro")
        ),
    ]


_FONT_FALLBACK = re.compile(r',url\([^)]*\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')
_SOURCE_MAP = re.compile(rb"\n?//# sourceMappingURL=[^\n]*\n?$")


def _transform(package: str, target: str, data: bytes) -> bytes:
    """The shipped bytes of one file (see the module docstring for the two changes)."""
    if package == "katex" and target == "katex.min.css":
        text = _FONT_FALLBACK.sub("", data.decode("utf-8"))
        if re.search(r"\.(?:woff|ttf)\)", text):
            raise SystemExit("web/build.py: katex.min.css still names a woff or ttf font")
        return text.encode("utf-8")
    if package == "markdown-it" and target == "markdown-it.min.js":
        return _SOURCE_MAP.sub(b"\n", data)
    return data


def _lock_entry(lock: dict[str, object], name: str) -> dict[str, str]:
    packages_ = lock.get("packages")
    if not isinstance(packages_, dict) or f"node_modules/{name}" not in packages_:
        raise SystemExit(f"web/build.py: {name} is not in web/package-lock.json")
    entry = packages_[f"node_modules/{name}"]
    assert isinstance(entry, dict)
    return {k: v for k, v in entry.items() if isinstance(v, str)}


def npm_ci() -> None:
    """Install exactly what the lockfile pins, running no package's install scripts."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("web/build.py: npm is not on PATH (node 20+ with npm is needed)")
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=WEB,
        check=True,
    )


def build(out: Path) -> None:
    """Write the vendor folder into ``out`` (created; must not exist or be empty)."""
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    listing: list[dict[str, object]] = []
    for package in packages():
        source_root = MODULES / package.name
        picks = list(package.picks)
        for pattern, folder in package.globs:
            for path in sorted(source_root.glob(pattern)):
                picks.append(Pick(str(path.relative_to(source_root)), f"{folder}/{path.name}"))
        files: dict[str, str] = {}
        for pick in picks:
            data = _transform(package.name, pick.target, (source_root / pick.source).read_bytes())
            target = out / package.name / pick.target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files[f"{package.name}/{pick.target}"] = hashlib.sha256(data).hexdigest()
        meta = json.loads((source_root / "package.json").read_text(encoding="utf-8"))
        entry = _lock_entry(lock, package.name)
        if entry.get("version") != meta["version"]:
            raise SystemExit(f"web/build.py: {package.name} in node_modules is not the locked one")
        basename = package.name.rsplit("/", 1)[-1]
        record: dict[str, object] = {
            "package": package.name,
            "version": meta["version"],
            "license": meta["license"],
            # The registry's own host is left out: the path is the same on any mirror.
            "tarball": f"{package.name}/-/{basename}-{meta['version']}.tgz",
            "integrity": entry["integrity"],
            "files": dict(sorted(files.items())),
        }
        if package.bundled_in:
            record["bundled_in"] = package.bundled_in
        if package.modified:
            record["modified"] = {
                f"{package.name}/{k}": v for k, v in sorted(package.modified.items())
            }
        listing.append(record)
    document = {
        "about": "Written by web/build.py from web/package-lock.json; do not edit by hand.",
        "packages": listing,
    }
    (out / "VENDOR.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def differences(built: Path, committed: Path) -> list[str]:
    """One line per file that is missing, extra or different in ``committed``."""
    want, have = _tree(built), _tree(committed) if committed.is_dir() else {}
    lines = [f"missing: {name}" for name in sorted(want.keys() - have.keys())]
    lines += [f"not built by web/build.py: {name}" for name in sorted(have.keys() - want.keys())]
    lines += [
        f"differs: {name}" for name in sorted(want.keys() & have.keys()) if want[name] != have[name]
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Build (or with ``--check`` verify) ``bot/platforms/web/static/vendor/``; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed vendor folder differs"
    )
    args = parser.parse_args(argv)
    npm_ci()
    if args.check:
        with tempfile.TemporaryDirectory(prefix="studybot-vendor-") as tmp:
            build(Path(tmp) / "vendor")
            problems = differences(Path(tmp) / "vendor", VENDOR)
        for line in problems:
            print(f"bot/platforms/web/static/vendor: {line}", file=sys.stderr)
        if problems:
            print("Run `python web/build.py` and commit the result.", file=sys.stderr)
            return 1
        print("vendor folder matches web/package-lock.json")
        return 0
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    build(VENDOR)
    print(f"wrote {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
