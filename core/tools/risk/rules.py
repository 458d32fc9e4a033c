"""The command tables the walker judges with: data, so adding a command is a one-line change."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    """A set from a whitespace-separated list (tables stay readable, one line per group)."""
    return frozenset(text.split())


# Plain inspection: these change nothing with known-safe options (options.py) and arguments
# (checks.py, builtins.py).
READ_ONLY = _words(
    ": [ ack ag arch awk b2sum base32 base64 basename bg blkid cal cat cd cksum clear cmp "
    "colordiff column comm curl cut date declare df diff dig dir dirname dirs dmesg du "
    "echo egrep exit expand export expr factor false fg fgrep file find findmnt fmt fold "
    "free gawk getconf getent grep groups hash head hexdump history host hostname id "
    "iostat jobs join journalctl jq last lastlog less local locale logname ls lsblk lscpu "
    "lsmod lsns lsof lspci lsusb man mawk md5sum more mpstat nawk netstat nl nproc nslookup "
    "numfmt od paste pgrep pidof ping ping6 popd printenv printf ps pushd pwd "
    "readlink readonly realpath return rev rg sed seq set sha1sum sha224sum sha256sum "
    "sha384sum sha512sum shopt sleep sort ss stat strings sum tac tail test times top tput "
    "tr tracepath traceroute trap tree true tty type typeset ulimit umask uname unexpand "
    "uniq unset uptime vdir vmstat w wait wc wget whereis which who whoami xxd yq"
)

# Commands that only create or change files where they are pointed: low when every path
# they write stays inside the workspace (checked per command in checks.py).
WORKSPACE_WRITERS = _words(
    "bunzip2 bzip2 cp gunzip gzip ln mkdir tar tee touch unxz unzip unzstd xz zcat zip zstd"
)

# Always risky: (reason). The name is appended to the reason by the walker.
HIGH: dict[str, str] = {}
for _names, _reason in (
    ("rm rmdir unlink shred truncate srm", "deletes files"),
    ("mv rename", "moves or renames files"),
    ("chmod chown chgrp chattr setfacl chcon", "changes permissions or ownership"),
    ("kill pkill killall xkill skill", "kills processes"),
    ("shutdown reboot halt poweroff init telinit", "shuts down or restarts the machine"),
    (
        "useradd userdel usermod adduser deluser groupadd groupdel groupmod passwd chpasswd "
        "visudo vipw chsh chage",
        "changes users or passwords",
    ),
    ("ssh scp sftp rsync nc ncat netcat socat telnet ftp", "connects to or copies to other hosts"),
    ("at batch", "schedules commands"),
    ("modprobe insmod rmmod depmod swapon swapoff umount", "changes the running system"),
    ("dd", "writes raw data"),
    ("source .", "runs commands from a file"),
    ("alias", "defines an alias"),
    (
        "read mapfile readarray getopts let enable compgen complete",
        "a shell builtin that assigns variables or evaluates expressions",
    ),
    ("chroot", "changes the root directory"),
    ("install", "installs files"),
    (
        "python python2 python3 perl ruby node nodejs php lua luajit Rscript java deno bun "
        "pwsh powershell osascript tclsh irb gdb",
        "runs arbitrary code",
    ),
    (
        "mkfs mke2fs mkswap mkntfs mkdosfs wipefs fdisk sfdisk cfdisk parted sgdisk blkdiscard "
        "hdparm",
        "partitions or formats disks",
    ),
    ("crontab", "changes scheduled jobs"),
    ("iptables ip6tables nft ufw firewall-cmd", "changes the firewall"),
    ("sysctl", "changes kernel settings"),
    ("mount", "mounts file systems"),
    ("hostnamectl timedatectl localectl", "changes system settings"),
):
    for _name in _names.split():
        HIGH[_name] = _reason

# Anything that formats, wipes or partitions: blocked outright when aimed at a disk device.
DISK_TOOLS = _words(
    "blkdiscard cfdisk dd fdisk hdparm mkdosfs mke2fs mkfs mkntfs mkswap parted sfdisk sgdisk "
    "shred wipefs"
)

# find's tests and actions that are known-safe (with and without a value); -exec, -ok and
# -delete are judged on their own; -fprint*/-fls (output files) are not on the lists.
FIND_VALUED = _words(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -regextype -type -xtype "
    "-maxdepth -mindepth -mtime -mmin -atime -amin -ctime -cmin -size -newer -anewer -cnewer "
    "-user -group -uid -gid -perm -links -inum -samefile -lname -ilname -fstype -used "
    "-printf -newermt -newerct -newerat -files0-from"
)
FIND_FLAGS = _words(
    "-print -print0 -ls -prune -o -or -a -and -not -empty -executable -readable -writable "
    "-L -H -P -xdev -mount -depth -follow -quit -true -false -daystart -noleaf -nouser "
    "-nogroup -delete -ignore_readdir_race -noignore_readdir_race ( ) ! , -d -help --help "
    "-version --version"
)

# Shells: `-c STRING` is parsed and judged; a script file or stdin is high.
SHELLS = _words("ash bash csh dash fish ksh mksh sh tcsh yash zsh")

# Wrappers run the rest of their arguments as a command:
# name -> (options that take a value, positional words to skip before the command, reason|"")
WRAPPERS: dict[str, tuple[frozenset[str], int, str]] = {
    "sudo": (
        _words(
            "-u -g -C -h -p -r -t -U -D -R -T --user --group --host --prompt --role --type "
            "--other-user --chdir --chroot --close-from"
        ),
        0,
        "runs as root (sudo)",
    ),
    "doas": (frozenset({"-u", "-C"}), 0, "runs as another user (doas)"),
    "nohup": (frozenset(), 0, ""),
    "time": (frozenset({"-f", "--format"}), 0, ""),
    "nice": (frozenset({"-n", "--adjustment"}), 0, ""),
    "ionice": (frozenset({"-c", "-n", "--class", "--classdata"}), 0, ""),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1, ""),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0, ""),
    "setsid": (frozenset(), 0, ""),
    "chrt": (frozenset(), 1, ""),
    "taskset": (frozenset(), 1, ""),
    "unbuffer": (frozenset(), 0, ""),
    "exec": (frozenset({"-a"}), 0, ""),
    "builtin": (frozenset(), 0, ""),
    "command": (frozenset(), 0, ""),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1, ""),
    "xargs": (
        _words(
            "-I -n -P -L -s -d -E -a --arg-file --delimiter --max-args --max-procs "
            "--max-lines --replace --max-chars --eof --process-slot-var"
        ),
        0,
        "",
    ),
    "busybox": (frozenset(), 0, ""),
    "catchsegv": (frozenset(), 0, ""),
    "runuser": (frozenset({"-u", "-g", "-G", "--user", "--group"}), 0, "runs as another user"),
}

# Tools judged by subcommand: name -> (global options taking a value, read-only subcommands,
# reason when the subcommand is not read-only). "a b" entries are two-level subcommands.
SUBCOMMANDS: dict[str, tuple[frozenset[str], frozenset[str], str]] = {}
for _names, _opts, _subs, _reason in (
    (
        "git",
        "-C -c --git-dir --work-tree --namespace --config-env --exec-path",
        "status log diff show branch remote rev-parse ls-files ls-tree blame describe tag "
        "shortlog grep config stash reflog cat-file show-ref version help rev-list name-rev "
        "count-objects whatchanged worktree ls-remote check-ignore merge-base for-each-ref "
        "cherry range-diff annotate add commit init fetch --version --help",
        "changes the repository or its remote",
    ),
    (
        "docker podman nerdctl",
        "-H --host -c --context --config -l --log-level -f --file -p --project-name --profile "
        "--env-file --project-directory --ansi --progress --parallel",
        "ps images logs inspect stats version info top port history diff events search "
        "--version -v --help container_ls container_list container_ps container_logs "
        "container_inspect container_stats container_top container_port container_diff image_ls "
        "image_list image_inspect image_history network_ls network_list network_inspect "
        "volume_ls volume_list volume_inspect system_df system_info system_events context_ls "
        "context_list context_inspect context_show compose_ps compose_logs compose_config "
        "compose_ls compose_images compose_top compose_version compose_port compose_events "
        "buildx_ls buildx_inspect buildx_version",
        "changes containers",
    ),
    (
        "docker-compose podman-compose",
        "-f --file -p --project-name --profile --env-file --project-directory --ansi --progress",
        "ps logs config ls images top version port events --version",
        "changes containers",
    ),
    (
        "kubectl oc",
        "-n --namespace --context --kubeconfig --cluster --user -s --server",
        "get describe logs top version explain api-resources api-versions cluster-info "
        "config_view config_get-contexts config_current-context config_get-clusters "
        "auth_can-i auth_whoami",
        "changes the cluster",
    ),
    (
        "helm",
        "-n --namespace --kube-context --kubeconfig",
        "list ls status get history show search version template lint env",
        "changes the cluster",
    ),
    (
        "systemctl",
        "-H --host -M --machine -t --type --state -p --property -P -n --lines -o --output",
        "status is-active is-enabled is-failed list-units list-unit-files list-timers "
        "list-sockets list-dependencies list-jobs show cat --version help",
        "service control",
    ),
    ("launchctl", "", "list print version help", "service control"),
    ("supervisorctl", "-c -s -u -p", "status avail version help", "service control"),
    (
        "apt",
        "-o -c -t",
        "list show search policy depends rdepends madison changelog --version",
        "package manager",
    ),
    ("apt-get", "-o -c -t", "check --version", "package manager"),
    (
        "apt-cache",
        "-o -c",
        "show showpkg search policy depends rdepends madison stats "
        "dump pkgnames showsrc --version",
        "package manager",
    ),
    (
        "dnf yum microdnf",
        "-c --config",
        "list info search repolist check-update provides repoquery --version",
        "package manager",
    ),
    ("zypper", "", "search se info if list-updates lu repos lr --version", "package manager"),
    ("apk", "", "info search list policy --version", "package manager"),
    ("snap", "", "list info find version changes", "package manager"),
    ("flatpak", "", "list info search --version", "package manager"),
    (
        "brew",
        "",
        "list ls info search outdated --version config doctor deps leaves",
        "package manager",
    ),
    ("pip pip3 pipx", "", "list show freeze check --version -V help inspect", "package manager"),
    (
        "npm pnpm",
        "-w --workspace --loglevel",
        "ls list ll view info outdated search help --version -v root prefix",
        "package manager",
    ),
    ("yarn", "", "list info why --version -v", "package manager"),
    ("gem", "", "list search info query environment --version", "package manager"),
    ("cargo", "", "--version -V tree search metadata", "package manager"),
    ("conda mamba micromamba", "", "list info search --version env_list", "package manager"),
    ("go", "", "version env list doc", "runs or installs code"),
    ("uv poetry", "", "--version tree show", "package manager"),
    ("service", "", "--status-all", "service control"),
):
    for _name in _names.split():
        SUBCOMMANDS[_name] = (
            frozenset(_opts.split()),
            frozenset(_subs.split()),
            _reason,
        )

# Global options that load a config able to run programs (kubeconfig exec plugins, docker
# credential helpers).
CONFIG_OPTIONS: dict[str, frozenset[str]] = {
    **{n: frozenset({"--kubeconfig"}) for n in ("kubectl", "oc", "helm")},
    **{n: frozenset({"--config", "-H", "--host"}) for n in ("docker", "podman", "nerdctl")},
}

# Two-level groups: `docker container rm`, `kubectl config set-context`, `conda env remove`.
SUBCOMMAND_GROUPS = _words(
    "auth buildx compose config container context env image network system volume"
)

# Commands whose every option must be on its allow-list in safe_options.py.
ALLOW_LISTED = READ_ONLY | WORKSPACE_WRITERS | _words("dpkg dpkg-query")

# Option-only package tools: read-only when they use one of these flags.
OPTION_READ_ONLY: dict[str, tuple[frozenset[str], str]] = {
    "dpkg": (
        _words(
            "-l --list -L --listfiles -s --status -S --search -p --print-avail "
            "--get-selections -c --contents --version --help --print-architecture"
        ),
        "package manager",
    ),
    "dpkg-query": (
        _words(
            "-l --list -L --listfiles -s --status -S --search -p --print-avail -W --show "
            "--version --help"
        ),
        "package manager",
    ),
    "rpm": (
        _words("-q --query -V --verify --version --help"),
        "package manager",
    ),
    "pacman": (
        frozenset(
            ["-Q", "-Qi", "-Ql", "-Qs", "-Qq", "-Qe", "-Ss", "-Si", "-Sl", "--query", "--version"]
        ),
        "package manager",
    ),
}

# Environment variables whose assignment changes what a command runs or loads.
DANGEROUS_VARS = _words(
    "BASHOPTS BASH_ENV BROWSER EDITOR ENV HOME IFS LESSCLOSE LESSOPEN MANPAGER "
    "NODE_OPTIONS PAGER PATH PERL5LIB PERL5OPT PROMPT_COMMAND PS4 PYTHONPATH PYTHONSTARTUP "
    "RUBYOPT SHELLOPTS VISUAL CDPATH KUBECONFIG DOCKER_CONFIG DOCKER_HOST CURL_HOME WGETRC "
    "TAR_OPTIONS ZIPOPT UNZIP UNZIPOPT RIPGREP_CONFIG_PATH LESS LESSKEY LESSKEYIN MANOPT "
    "AWKPATH AWKLIBPATH SYSTEMD_PAGER SUDO_ASKPASS SSH_ASKPASS GCONV_PATH BASH_LOADABLES_PATH "
    "XDG_CONFIG_HOME"
)
DANGEROUS_VAR_PREFIXES = ("LD_", "DYLD_", "GIT_", "BASH_FUNC_")

# Writing to these is harmless.
HARMLESS_DEVICES = _words("/dev/full /dev/null /dev/stderr /dev/stdout /dev/tty /dev/zero")
DISK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|md\d|dm-\d|loop\d|sr\d|"
    r"disk/|mapper/|mem$|kmem$|port$|root$|block/)"
)

# Top-level directories whose recursive deletion (or chmod/chown/move) wrecks the machine.
SYSTEM_DIRS = _words(
    "/ /bin /boot /dev /etc /home /lib /lib32 /lib64 /libx32 /media /mnt /opt /proc /root "
    "/run /sbin /srv /sys /tmp /usr /usr/bin /usr/lib /usr/local /usr/sbin /usr/share /var "
    "/var/lib /var/log"
)

# Reading these can leak the bot's secrets or the machine's credentials.
SENSITIVE_READ = re.compile(
    r"(^/proc/[^/]+/(environ|mem)$)|(^/etc/(shadow|gshadow|sudoers))|(/\.ssh(/|$))|"
    r"(/\.aws(/|$))|(/\.gnupg(/|$))|((^|/)\.env$)|((^|/)\.netrc$)|((^|/)hearth\.db)"
)

# Sources whose output piped into a shell means "run what the network sent".
DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "nc", "ncat"})
