"""The template store: a per-user git repository that copier reads the template from.

copier can only update a project from a git template it finds again at the recorded
``_src_path`` and that still holds the recorded ``_commit``. A folder inside site-packages is
neither, so every kommo command first syncs the installed template into
``~/.kommo-scaffold/template`` (recorded verbatim, ``~`` included, so the answers file is
valid for every user and machine) and tags it ``v<version>``.

* Released template versions travel inside the package as a git bundle
  (``templates/history.bundle``); their tags are fetched append-only, never moved or deleted,
  so a project made by any older release can be updated on a machine that never had it.
* The installed template itself is written into the store as a tree; its commit is
  deterministic (fixed author and date, parent = the previous release), so every machine
  that installs the same release gets the same commit.
* An installed template that differs from the released tree of the same version (a source
  checkout with edits) is tagged ``v<version>+dev.<n>`` instead, never moving a tag.

See docs/template-store.md for the whole design.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.plumbing import gitutil, interrupt
from kommo_scaffold.plumbing.gitutil import git

if TYPE_CHECKING:
    from packaging.version import Version

STORE_SRC = "~/.kommo-scaffold/template"
HISTORY_BUNDLE_NAME = "history.bundle"
TEMPLATE_NAME = "widget"
# Fixed identity and date: the same tree and parent give the same commit on every machine.
_COMMIT_ENV = {
    "GIT_AUTHOR_NAME": "kommo-scaffold",
    "GIT_AUTHOR_EMAIL": "template@kommo-scaffold.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "kommo-scaffold",
    "GIT_COMMITTER_EMAIL": "template@kommo-scaffold.invalid",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+0000",
}
_SKIP_NAMES = {"__pycache__", ".DS_Store", "Thumbs.db", HISTORY_BUNDLE_NAME}
_SKIP_SUFFIXES = (".pyc", ".swp", "~")


@dataclass(frozen=True)
class TemplateRef:
    """Where copier finds the template, and which version of it to use."""

    src_path: str  # recorded verbatim in .copier-answers.yml
    tag: str  # e.g. v0.1.0 or v0.1.0+dev.2
    repo: Path  # the store on this machine

    @property
    def version(self) -> str:
        return self.tag.removeprefix("v")


def installed_version() -> str:
    try:
        return metadata.version("kommo-scaffold")
    except metadata.PackageNotFoundError:  # running from a checkout without installing
        return "0.0.0"


# The kommo_scaffold package folder: a wheel carries the templates inside it.
PACKAGE = Path(__file__).resolve().parents[1]


def templates_dir() -> Path:
    """The installed templates folder: package data in a wheel, ./templates in a checkout."""
    for candidate in (PACKAGE / "templates", PACKAGE.parent / "templates"):
        if (candidate / TEMPLATE_NAME / "copier.yml").is_file():
            return candidate
    raise ScaffoldError(
        "The kommo-scaffold template is missing from this installation; "
        "reinstall it: pip install --force-reinstall kommo-scaffold"
    )


def store_path() -> Path:
    """~/.kommo-scaffold/template, expanded the way copier expands the recorded _src_path."""
    home = os.environ.get("HOME")
    if home is not None and not home.strip():
        raise ScaffoldError("HOME is empty; set it to your home folder (export HOME=...) so "
                            "the template store ~/.kommo-scaffold/template has a place")
    try:
        return Path(STORE_SRC).expanduser()
    except RuntimeError as error:  # no HOME and no passwd entry
        raise ScaffoldError("Cannot find your home folder; set HOME (export HOME=...) so "
                            "the template store has a place") from error


def _recovery_hint(repo: Path) -> str:
    return (f"move it away (mv {repo} {repo}.broken) and run the command again: it is "
            "rebuilt from the installed kommo-scaffold")


def _template_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_NAMES for part in rel.parts) or path.name.endswith(_SKIP_SUFFIXES):
            continue
        if path.is_file():
            files.append(path)
    return files


def write_tree(repo: Path, root: Path) -> str:
    """Store the files under ``root`` in ``repo``'s object database; return the tree id.

    Every file gets mode 100644 so the tree does not depend on how the package was installed.
    """
    root = root.resolve()  # git runs in the store, so paths must not be relative
    files = _template_files(root)
    blobs = git("hash-object", "-w", "--stdin-paths", cwd=repo,
                input_text="".join(f"{path}\n" for path in files)).split()
    index_info = "".join(
        f"100644 {blob}\t{path.relative_to(root).as_posix()}\n"
        for blob, path in zip(blobs, files, strict=True)
    )
    with interrupt.temporary_folder("kommo-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("update-index", "--add", "--index-info", cwd=repo, env=env, input_text=index_info)
        return git("write-tree", cwd=repo, env=env).strip()


def parse_version(tag: str) -> Version | None:
    """The PEP 440 version of a tag such as v0.1.0 or v0.1.0+dev.2; None if it is not one."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(tag.removeprefix("v"))
    except InvalidVersion:
        return None


def _version_key(tag: str) -> tuple[object, ...]:
    version = parse_version(tag)
    return (0, tag) if version is None else (1, version)


def _tags(repo: Path) -> dict[str, tuple[str, str]]:
    """tag -> (commit, tree) for every v* tag of the store."""
    out = git("for-each-ref", "--format=%(refname:short) %(objectname) %(tree)",
              "refs/tags/v*", cwd=repo)
    tags = {}
    for line in out.splitlines():
        name, commit, tree = line.split()
        tags[name] = (commit, tree)
    return tags


def _is_release(tag: str) -> bool:
    return "+" not in tag


def commit_template(repo: Path, tree: str, version: str, tags: dict[str, tuple[str, str]]) -> str:
    """A deterministic commit of ``tree`` on top of the newest release below ``version``."""
    from packaging.version import Version

    older = [t for t in tags if _is_release(t) and _version_key(t) < (1, Version(version))]
    parent = ["-p", tags[max(older, key=_version_key)][0]] if older else []
    return git("commit-tree", tree, *parent, "-m", f"kommo-scaffold template v{version}",
               cwd=repo, env=_COMMIT_ENV).strip()


def tag_for_tree(repo: Path, tree: str, version: str, may_release: bool = True) -> str:
    """The store tag holding ``tree`` as version ``version``, creating it if needed.

    ``may_release`` False (a source checkout) never claims the release tag for a tree the
    release does not have: the real release could not be fetched over it later.
    """
    tags = _tags(repo)
    release, dev_prefix = f"v{version}", f"v{version}+dev."
    mine = [t for t in tags if t == release or t.startswith(dev_prefix)]
    for tag in sorted(mine, key=_version_key):
        if tags[tag][1] == tree:
            return tag
    if release not in tags and may_release:
        name = release
    else:
        numbers = [int(t.removeprefix(dev_prefix)) for t in mine if t.startswith(dev_prefix)
                   and t.removeprefix(dev_prefix).isdigit()]
        name = f"{dev_prefix}{max(numbers, default=0) + 1}"
    commit = commit_template(repo, tree, version, tags)
    git("tag", name, commit, cwd=repo)
    return name


@contextlib.contextmanager
def _locked(repo: Path) -> Iterator[None]:
    """Serialise concurrent kommo commands on one store."""
    path = repo / ".git" / "kommo-scaffold.lock"
    try:
        handle = open(path, "w")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise ScaffoldError(f"Cannot open the template store's lock {path}: "
                            f"{error.strerror}; remove it if it is not a file") from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_repo(repo: Path) -> None:
    if (repo / ".git").is_dir():
        return
    if repo.exists() and not repo.is_dir():
        raise ScaffoldError(f"The template store {repo} is a file, not a folder; "
                            f"{_recovery_hint(repo)}")
    if (repo / ".git").exists():
        raise ScaffoldError(f"The template store {repo} is not a git repository (its .git is "
                            f"not a folder); {_recovery_hint(repo)}")
    if repo.exists() and any(repo.iterdir()):
        raise ScaffoldError(
            f"The template store {repo} exists but is not a git repository; "
            "move it away and run the command again"
        )
    try:
        repo.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ScaffoldError(f"Cannot create the template store {repo}: {error.strerror}; "
                            "make your home folder writable or set HOME to one that "
                            "is") from error
    git("init", "--quiet", "--initial-branch=main", cwd=repo)


def _fetch_history(repo: Path, bundle: Path) -> None:
    if not bundle.is_file():
        return
    # No "+" and no --prune: an existing tag is never moved or deleted. A tag that would be
    # moved is refused by git; that only happens for a developer's local dev tags.
    git("fetch", "--quiet", "--no-tags", str(bundle), "refs/tags/*:refs/tags/*",
        cwd=repo, check=False)


def _point_main_at_newest(repo: Path) -> None:
    """Keep main (and the work tree) at the newest version, for plain `copier copy`."""
    tags = _tags(repo)
    newest = max(tags, key=_version_key)
    commit = tags[newest][0]
    current = git("rev-parse", "--verify", "--quiet", "refs/heads/main", cwd=repo, check=False)
    if current.strip() != commit:
        git("update-ref", "refs/heads/main", commit, cwd=repo)
        git("checkout", "--quiet", "--force", "main", cwd=repo)


def _fingerprint(templates: Path, version: str) -> str:
    """Cheap identity of the installed template (names, sizes, mtimes) and its history."""
    digest = hashlib.sha256(version.encode())
    paths = [*_template_files(templates / TEMPLATE_NAME), templates / HISTORY_BUNDLE_NAME]
    for path in paths:
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def sync(templates: Path | None = None, version: str | None = None) -> TemplateRef:
    """Bring the store up to date with the installed template; return what copier needs."""
    repo = store_path()
    try:
        ref = _sync(templates, version)
        _verify_tag(repo, ref.tag)
        return ref
    except OSError as error:
        raise ScaffoldError(f"The template store {repo} cannot be used "
                            f"({error.strerror}: {error.filename}); "
                            f"{_recovery_hint(repo)}") from error
    except ScaffoldError as error:
        if str(repo) in str(error) or isinstance(error, gitutil.GitUnusable):
            raise  # names the store already, or the store is not at fault
        raise ScaffoldError(f"The template store {repo} is damaged ({error}); "
                            f"{_recovery_hint(repo)}") from error


def _verify_tag(repo: Path, tag: str) -> None:
    """The tag and everything it points to can be read (a truncated store fails here)."""
    git("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{tree}}", cwd=repo)
    listing = git("ls-tree", "-r", "--full-tree", f"refs/tags/{tag}", cwd=repo)
    shas = "".join(line.split()[2] + "\n" for line in listing.splitlines() if line.strip())
    checked = git("cat-file", "--batch-check", cwd=repo, input_text=shas)
    if "missing" in checked:
        raise ScaffoldError(f"{tag} has missing files")


def _sync(templates: Path | None, version: str | None) -> TemplateRef:
    templates = templates or templates_dir()
    version = version or installed_version()
    template_root = templates / TEMPLATE_NAME
    if not (template_root / "copier.yml").is_file():
        raise ScaffoldError(f"No copier template at {template_root}; reinstall kommo-scaffold")
    repo = store_path()
    _ensure_repo(repo)
    # Every command syncs; when nothing changed since the last sync, skip the git work.
    cache = repo / ".git" / "kommo-scaffold-sync"
    fingerprint = _fingerprint(templates, version)
    if cache.is_file():
        cached_fingerprint, _, cached_tag = cache.read_text("utf-8", "replace").partition(" ")
        if cached_fingerprint == fingerprint and has_tag(cached_tag):
            return TemplateRef(src_path=STORE_SRC, tag=cached_tag, repo=repo)
    with _locked(repo):
        _fetch_history(repo, templates / HISTORY_BUNDLE_NAME)
        tree = write_tree(repo, template_root)
        # Only a template installed inside the package (a wheel) is a release; a checkout
        # (editable install, tests) may hold unreleased edits under the same version.
        in_package = templates.resolve().parent == PACKAGE
        tag = tag_for_tree(repo, tree, version, may_release=in_package)
        _point_main_at_newest(repo)
        cache.write_text(f"{fingerprint} {tag}")
    return TemplateRef(src_path=STORE_SRC, tag=tag, repo=repo)


def has_tag(tag: str) -> bool:
    repo = store_path()
    if not (repo / ".git").is_dir():
        return False
    return bool(git("tag", "--list", tag, cwd=repo).strip())


def release(templates: Path, version: str) -> Path:
    """Maintainer tool: add the current template as release ``version`` to history.bundle.

    Builds the release history in a scratch repo (previous releases from the existing
    bundle, plus this one) and rewrites the bundle with every release tag.
    """
    bundle = templates / HISTORY_BUNDLE_NAME
    with interrupt.temporary_folder("kommo-release-") as tmp:
        repo = Path(tmp)
        git("init", "--quiet", "--initial-branch=main", cwd=repo)
        _fetch_history(repo, bundle)
        tree = write_tree(repo, templates / TEMPLATE_NAME)
        tags = _tags(repo)
        tag = f"v{version}"
        if tag in tags:
            if tags[tag][1] != tree:
                raise ScaffoldError(f"{tag} is already released with another template; "
                                    "bump the version in pyproject.toml first")
        else:
            git("tag", tag, commit_template(repo, tree, version, tags), cwd=repo)
        releases = sorted((t for t in _tags(repo) if _is_release(t)), key=_version_key)
        git("update-ref", "refs/heads/main", _tags(repo)[releases[-1]][0], cwd=repo)
        new_bundle = bundle.with_suffix(".bundle.tmp")
        git("bundle", "create", "--quiet", str(new_bundle), "refs/heads/main",
            *[f"refs/tags/{t}" for t in releases], cwd=repo)
        os.replace(new_bundle, bundle)
    return bundle


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else templates_dir()
    print(release(target, installed_version()))
