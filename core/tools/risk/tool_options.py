"""Known-safe options of tools judged by subcommand: docker, systemctl, apt, pip, npm…

A read-only subcommand stays low only when every option before it is on the tool's ``before``
list and every option after it is on that subcommand's list (spec notation: options.py).
Left off on purpose: ``docker -H``/``--host``/``--context`` (another daemon, maybe over ssh)
and ``--config`` (credential helpers run programs), ``docker compose config -o`` (writes a
file), ``docker buildx inspect --bootstrap`` (starts a builder), ``systemctl -H``/``-M``
(another machine), ``apt -o``/``-c`` (configuration that names the programs apt runs),
``apt-cache -p``/``-s`` (cache files written), ``pip --python`` (runs pip under another
interpreter), ``pip --log``/``--cache-dir`` (files written), ``pip -i``/``npm --registry``
(another index), and every ``npm help`` option (``--viewer``/``--browser`` run programs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.tools.risk.options import OptionSpec, parse_spec


@dataclass(frozen=True, slots=True)
class ToolOptions:
    """Known-safe options of one tool: before its subcommand, and after each read-only one."""

    before: OptionSpec
    after: Mapping[str, OptionSpec]


def _tool(before: str, after: dict[str, str], common: str = "") -> ToolOptions:
    """A ToolOptions from spec strings; ``common`` joins every ``after`` list."""
    return ToolOptions(
        parse_spec(before),
        {
            sub: parse_spec(f"{common} {spec}")
            for subs, spec in after.items()
            for sub in subs.split()
        },
    )


_HELP = "--help --version"
_FORMAT = "-f: --format="
_PS = "@aqsl -n: -f: --all --quiet --size --latest --last= --filter= --format= --no-trunc"
_LOGS = "@t -n: --tail= --timestamps --since= --until= --details"
_IMAGES = "@aq -f: --all --quiet --digests --no-trunc --filter= --format= --tree"
_INSPECT = "@s -f: --format= --size --type="
_STATS = "@a --all --no-stream --no-trunc --format="
_HISTORY = "@q --human=? --quiet --no-trunc --format="
_EVENTS = "-f: --filter= --format= --since= --until="
_COMPOSE = (
    "-f: -p: --file= --project-name= --profile= --env-file= --project-directory= --ansi= "
    "--progress= --parallel= --compatibility"
)
_COMPOSE_SUBS = {
    "ps": "@aq --all --quiet --services --filter= --format= --status= --no-trunc --orphans",
    "logs": "@t -n: --tail= --timestamps --since= --until= --no-color --no-log-prefix --index=",
    "config": "@q --services --volumes --profiles --images --hash= --format= --quiet "
    "--no-interpolate --no-normalize --resolve-image-digests --no-path-resolution "
    "--no-consistency --environment --variables",
    "ls": "@aq --all --quiet --format= --filter=",
    "images": "@q --quiet --format=",
    "top": "",
    "version": "-f: --format= --short",
    "port": "--index= --protocol=",
    "events": "--json",
}
_DOCKER = _tool(
    f"-D --debug -l: --log-level= -v {_HELP}",
    {
        "ps container_ls container_list container_ps": _PS,
        "logs container_logs": _LOGS,
        "inspect container_inspect": _INSPECT,
        "images image_ls image_list": _IMAGES,
        "stats container_stats": _STATS,
        "top container_top": "*",  # the rest are options of ps, which run nothing
        "port diff container_port container_diff context_show buildx_version": "",
        "version info system_info image_inspect volume_inspect context_inspect": _FORMAT,
        "history image_history": _HISTORY,
        "events system_events": _EVENTS,
        "search": "-f: --filter= --format= --limit= --no-trunc",
        "network_ls network_list": "@q -f: --filter= --format= --no-trunc --quiet",
        "network_inspect": "@v -f: --format= --verbose",
        "volume_ls volume_list": "@q -f: --filter= --format= --quiet --cluster",
        "system_df": "@v --verbose --format=",
        "context_ls context_list": "@q --format= --quiet",
        "buildx_ls": "--format= --no-trunc",
        "buildx_inspect": "",
        "--version -v --help": "",
        **{f"compose_{sub}": f"{_COMPOSE} {spec}" for sub, spec in _COMPOSE_SUBS.items()},
    },
    _HELP,
)
_DOCKER_COMPOSE = _tool(f"{_COMPOSE} {_HELP} -v", dict(_COMPOSE_SUBS), _HELP)

_SYSTEMCTL = (
    "@alqr -n: -t: -p: -P: -o: --all --full --lines= --output= --type= --state= --property= "
    "--value --no-pager --no-legend --legend=? --plain --quiet --failed --user --system "
    "--recursive --reverse --after --before --show-types --with-dependencies --timestamp= "
    f"--no-ask-password {_HELP}"
)
_SYSTEMCTL_SUBS = (
    "status is-active is-enabled is-failed list-units list-unit-files list-timers list-sockets "
    "list-dependencies list-jobs show cat --version help"
)

_APT = f"@q -t: --quiet=? --target-release= {_HELP}"
_APT_DEPENDS = (
    "--recurse --installed --important --no-recommends --no-suggests --no-conflicts "
    "--no-breaks --no-replaces --no-enhances --no-pre-depends --no-depends --implicit"
)
_APT_CACHE = (
    "@aiqnf --all-versions --no-all-versions --important --names-only --full --installed "
    f"--recurse --quiet=? --implicit {_APT_DEPENDS} {_HELP}"
)

_PIP = (
    "@vq --verbose --quiet --no-color --disable-pip-version-check --isolated --no-input "
    f"--require-virtualenv --no-cache-dir --no-python-version-warning -V {_HELP}"
)
_NPM = (
    "@sqlp --silent --quiet --loglevel= --no-color --color=? --json --parseable --long "
    f"--no-progress --no-update-notifier --no-fund --no-audit -v {_HELP}"
)
_NPM_WORKSPACE = "-w: --workspace= --workspaces --include-workspace-root"

TOOLS: dict[str, ToolOptions] = {
    **dict.fromkeys(("docker", "podman", "nerdctl"), _DOCKER),
    **dict.fromkeys(("docker-compose", "podman-compose"), _DOCKER_COMPOSE),
    "systemctl": _tool(_SYSTEMCTL, {_SYSTEMCTL_SUBS: ""}, _SYSTEMCTL),
    "apt": _tool(
        _APT,
        {
            "list": "@av --installed --upgradable --upgradeable --all-versions "
            "--manual-installed --verbose",
            "show": "@a --all-versions",
            "search": "--names-only --full",
            "depends rdepends": _APT_DEPENDS,
            "policy madison changelog --version": "",
        },
        _APT,
    ),
    "apt-get": _tool(f"@q --quiet=? {_HELP}", {"check --version": ""}, f"@q --quiet=? {_HELP}"),
    "apt-cache": _tool(
        _APT_CACHE,
        {
            "show showpkg search policy depends rdepends madison stats dump pkgnames showsrc "
            "--version": ""
        },
        _APT_CACHE,
    ),
    **dict.fromkeys(
        ("pip", "pip3"),
        _tool(
            _PIP,
            {
                "list": "@oule --outdated --uptodate --local --user --editable --pre --format= "
                "--not-required --exclude-editable --include-editable --exclude= --path=",
                "show": "@f --files",
                "freeze": "@l --local --user --all --exclude-editable --exclude= --path=",
                "inspect": "--local --user --path=",
                "check help --version -V": "",
            },
            _PIP,
        ),
    ),
    "pipx": _tool(
        f"-V {_HELP}",
        {"list": "--include-injected --json --short --skip-maintenance", "--version -V": ""},
        _HELP,
    ),
    **dict.fromkeys(
        ("npm", "pnpm"),
        _tool(
            _NPM,
            {
                "ls list ll": "@ag --all --global --depth= --omit= --include= --link "
                f"--package-lock-only --unicode --production --dev {_NPM_WORKSPACE}",
                "outdated": f"@ag --all --global --omit= --include= {_NPM_WORKSPACE}",
                "view info": _NPM_WORKSPACE,
                "search": "--searchlimit= --searchopts= --searchexclude= --no-description "
                "--prefer-online --prefer-offline --offline",
                "root prefix": "@g --global",
                "--version -v": "",
            },
            _NPM,
        ),
    ),
}
