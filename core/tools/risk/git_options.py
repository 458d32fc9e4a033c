"""Known-safe options of git: before the subcommand, and per read-only subcommand.

Left off on purpose: ``-c``, ``--exec-path``, ``--git-dir``/``--work-tree`` (handled with their
own reasons), ``--upload-pack``/``--receive-pack``, ``-O``/``--open-files-in-pager``,
``--output``, ``--ext-diff``, ``--textconv``, ``--template`` and anything that opens an editor.
"""

from __future__ import annotations

from core.tools.risk.options import OptionSpec, parse_spec

_COMMON = "--help --version"
_LOGISH = (
    "@pusWqiEFPRatzmcMCBb -U: -n: -L: -S: -G: -# --patch --no-patch --stat=? --numstat "
    "--shortstat --dirstat=? --summary --name-only --name-status --raw --patch-with-stat "
    "--abbrev=? --oneline --pretty=? --format= --graph --decorate=? --no-decorate --all "
    "--branches=? --tags=? --remotes=? --max-count= --skip= --since= --after= --until= "
    "--before= --author= --committer= --grep= --regexp-ignore-case --invert-grep --all-match "
    "--merges --no-merges --first-parent --reverse --date= --relative-date --follow "
    "--pickaxe-all --diff-filter= --find-renames=? --find-copies=? --no-renames --color=? "
    "--no-color --word-diff=? --color-words=? --cached --staged --ignore-space-change "
    "--ignore-all-space --ignore-blank-lines --minimal --histogram --patience "
    "--diff-algorithm= --full-history --simplify-by-decoration --topo-order --date-order "
    "--author-date-order --left-right --cherry-pick --cherry-mark --boundary --no-walk=? "
    "--exit-code --quiet --check --full-index --binary --src-prefix= --dst-prefix= "
    "--no-prefix --relative=? --text --mailmap --use-mailmap --no-mailmap --notes=? "
    "--no-notes --expand-tabs=? --source --encoding= --log-size --parents --children "
    "--no-ext-diff --no-textconv --ignore-submodules=? --submodule=? --compact-summary "
    "--merge --dense --cc --diff-merges= --remerge-diff --count --objects --header "
    "--timestamp --max-parents= --min-parents= --creation-factor= --no-dual-color "
    "--show-signature --unified= --function-context --ita-visible-in-index"
)

GIT_GLOBAL = parse_spec(
    "-C: @pP --no-pager --paginate --no-replace-objects --bare --literal-pathspecs "
    "--glob-pathspecs --noglob-pathspecs --icase-pathspecs --no-optional-locks " + _COMMON
)
GIT: dict[str, OptionSpec] = {
    name: parse_spec(spec)
    for names, spec in (
        ("log show diff whatchanged rev-list range-diff cherry reflog stash", _LOGISH),
        ("shortlog", _LOGISH + " @se --summary --numbered --email --committer --group="),
        (
            "grep",
            "@nivwlLchHEFPGoqIaz -e: -f: -A: -B: -C: -# --count --line-number --ignore-case "
            "--word-regexp --invert-match --files-with-matches --files-without-match --cached "
            "--untracked --no-index --recurse-submodules --max-depth= --context= --color=? "
            "--no-color --heading --break --full-name --all-match --and --or --not "
            "--show-function --function-context --threads= --extended-regexp --fixed-strings "
            "--perl-regexp --basic-regexp --null --only-matching --quiet --text -p -W",
        ),
        (
            "status",
            "@sbvz -u? --short --branch --porcelain=? --long --verbose --untracked-files=? "
            "--ignored=? --show-stash --ahead-behind --no-ahead-behind --column=? "
            "--no-column --renames --no-renames",
        ),
        (
            "branch",
            "@arlvq --list --all --remotes --verbose --contains=? --no-contains= --merged=? "
            "--no-merged= --sort= --format= --show-current --points-at= --color=? --no-color "
            "--column=? --no-column --abbrev=? --omit-empty",
        ),
        (
            "tag",
            "@lv -n? --list --sort= --contains=? --no-contains= --points-at= --merged=? "
            "--no-merged= --format= --column=? --no-column --color=? --ignore-case --omit-empty",
        ),
        ("remote", "@v --verbose -n"),
        (
            "rev-parse",
            "@q --abbrev-ref=? --short=? --verify --quiet --show-toplevel --git-dir "
            "--show-prefix --show-cdup --is-inside-work-tree --is-inside-git-dir "
            "--is-bare-repository --symbolic-full-name --symbolic --all --branches=? --tags=? "
            "--remotes=? --absolute-git-dir --git-common-dir --show-superproject-working-tree "
            "--default= --sq --not --since= --until= --path-format= --local-env-vars "
            "--git-path= --show-object-format=? --show-ref-format",
        ),
        (
            "ls-files",
            "@cdmoiuskztvf -x: -X: --cached --deleted --modified --others --ignored --stage "
            "--unmerged --killed --exclude= --exclude-from= --exclude-standard --directory "
            "--no-empty-directory --error-unmatch --full-name --abbrev=? --eol --deduplicate "
            "--recurse-submodules --format= --sparse",
        ),
        (
            "ls-tree",
            "@drtlz --long --name-only --name-status --full-name --full-tree --abbrev=? "
            "--object-only --format=",
        ),
        (
            "blame annotate",
            "@ltpbewMCsfnc -L: -S: -# --porcelain --line-porcelain --date= --root "
            "--show-stats --show-name --show-number --show-email --incremental --encoding= "
            "--since= --reverse= --first-parent --ignore-rev= --color-lines --color-by-age "
            "--abbrev=? --minimal --progress --no-progress",
        ),
        (
            "describe",
            "--tags --all --always --long --abbrev=? --exact-match --dirty=? --broken=? "
            "--contains --first-parent --match= --exclude= --candidates=",
        ),
        (
            "config",
            "@lz --get --get-all --get-regexp --list --show-origin --show-scope --global "
            "--system --local --worktree --name-only --type= --bool --int --path --default= "
            "--includes --no-includes --get-urlmatch --get-color --get-colorbool",
        ),
        (
            "cat-file",
            "@tsepZ --batch=? --batch-check=? --batch-all-objects --follow-symlinks "
            "--unordered --allow-unknown-type --use-mailmap",
        ),
        (
            "show-ref",
            "@dsq --heads --tags --head --dereference --hash=? --abbrev=? --verify --quiet "
            "--exists --branches --exclude-existing=?",
        ),
        (
            "name-rev",
            "--name-only --tags --refs= --exclude= --all --annotate-stdin --always --no-undefined",
        ),
        ("count-objects", "@vH --verbose --human-readable"),
        ("worktree", "@vz --porcelain --verbose --expire="),
        (
            "ls-remote",
            "@htq --heads --tags --branches --refs --quiet --exit-code --get-url --symref --sort=",
        ),
        ("check-ignore", "@qvnz --stdin --no-index --quiet --verbose --non-matching"),
        ("merge-base", "@a --all --octopus --independent --is-ancestor --fork-point"),
        (
            "for-each-ref",
            "--count= --sort= --format= --color=? --shell --perl --python --tcl "
            "--points-at= --merged=? --no-merged=? --contains=? --no-contains=? "
            "--ignore-case --omit-empty --exclude=",
        ),
        (
            "add",
            "@AunvfN --all --update --dry-run --verbose --force --intent-to-add "
            "--ignore-errors --ignore-removal --no-all --chmod= --renormalize --sparse "
            "--ignore-missing",
        ),
        (
            "commit",
            "@aqvsn -m: -F: --message= --all --quiet --verbose --signoff --allow-empty "
            "--allow-empty-message --file= --author= --date= --amend --no-edit --no-verify "
            "--dry-run --short --porcelain --no-gpg-sign --only --include --fixup= "
            "--squash= --reset-author --cleanup= --status --no-status --untracked-files=? "
            "-u?",
        ),
        ("init", "@q -b: --quiet --bare --initial-branch= --object-format= --shared=?"),
        (
            "fetch",
            "@pPtqv -j: --all --prune --prune-tags --tags --no-tags --quiet --verbose "
            "--dry-run --depth= --shallow-since= --unshallow --multiple --jobs= "
            "--no-recurse-submodules",
        ),
        ("version help --version --help", "*"),
    )
    for name in names.split()
}
