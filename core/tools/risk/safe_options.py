"""Known-safe options of the plain read-only commands and the workspace writers.

Left off on purpose: options that take a program, a script, a config file or an output path
(``sed -f``, ``awk -f``/``-W``, ``tar --to-command``/``-I``, ``zip -TT``, ``curl -K``/
``--output-dir``/``--libcurl``, ``xxd -r``, ``ln -t``, ``find -fprint``, ``man -P``, ``cp -s``…).
"""

from __future__ import annotations

from core.tools.risk.options import OptionSpec, parse_spec

_COMMON = "--help --version"
_LS = (
    "@aAbBcCdfFgGhHiklLmnNopqQrRsStuUvxXZ1 -I: -T: -w: --all --almost-all --author --escape "
    "--block-size= --ignore-backups --color=? --directory --classify=? --file-type --format= "
    "--full-time --group-directories-first --no-group --human-readable --si "
    "--dereference-command-line --dereference --hide= --hyperlink=? --indicator-style= --inode "
    "--ignore= --kibibytes --literal --numeric-uid-gid --hide-control-chars "
    "--show-control-chars --quote-name --quoting-style= --reverse --recursive --size --sort= "
    "--time= --time-style= --tabsize= --width= --context --zero"
)
_GREP = (
    "@abcEFGhHiIlLnoPqrRsTUvVwxyzZ -e: -f: -m: -A: -B: -C: -d: -D: -# --color=? --colour=? "
    "--count --extended-regexp --fixed-strings --basic-regexp --perl-regexp --ignore-case "
    "--no-ignore-case --invert-match --word-regexp --line-regexp --files-with-matches "
    "--files-without-match --line-number --only-matching --quiet --silent --recursive "
    "--dereference-recursive --no-messages --with-filename --no-filename --include= "
    "--exclude= --exclude-dir= --max-count= --after-context= --before-context= --context= "
    "--binary-files= --null --null-data --text --label= --line-buffered --regexp= --file= "
    "--byte-offset --initial-tab"
)
_SUM = "@bctzw --check --quiet --status --strict --tag --text --binary --warn --ignore-missing -l:"
_GZIP = (
    "@cdfklnNqrtvLz -# -S: --stdout --to-stdout --decompress --uncompress --force --keep "
    "--list --quiet --recursive --test --verbose --best --fast --no-name --name --suffix= "
    "-T: --threads="
)
# name -> spec, for plain read-only commands and workspace writers judged by walker.py.
_TABLE: tuple[tuple[str, str], ...] = (
    (
        ": true false echo exit return sleep expr factor basename dirname jobs wait bg fg "
        "times dirs popd clear tty logname arch groups whoami pwd cal getent getconf dig "
        "host nslookup tracepath traceroute tput jq printenv lsmod rev locale",
        "*",
    ),
    ("ls dir vdir", _LS),
    ("grep egrep fgrep", _GREP),
    (
        "cat",
        "@AbeEnstTuv --show-all --number-nonblank --number --squeeze-blank --show-ends "
        "--show-tabs --show-nonprinting",
    ),
    ("tac", "@br -s: --before --regex --separator="),
    ("head", "@qvz -n: -c: -# --lines= --bytes= --quiet --silent --verbose --zero-terminated"),
    (
        "tail",
        "@qvzfF -n: -c: -s: -# --lines= --bytes= --quiet --silent --verbose --follow=? "
        "--retry --pid= --sleep-interval= --max-unchanged-stats= --zero-terminated",
    ),
    (
        "rg",
        "@nNiSswxvlcoFHILqUpz0u -e: -g: -t: -T: -A: -B: -C: -m: -j: -M: -r: --hidden "
        "--no-ignore --glob= --iglob= --type= --type-not= --files --files-with-matches "
        "--files-without-match --count --count-matches --fixed-strings --ignore-case "
        "--smart-case --case-sensitive --word-regexp --line-regexp --line-number "
        "--no-line-number --only-matching --max-count= --max-depth= --follow --json "
        "--vimgrep --color= --no-heading --heading --with-filename --no-filename --trim "
        "--sort= --sortr= --multiline --stats --pretty --null --context= --before-context= "
        "--after-context= --replace= --regexp= --type-list --quiet --max-columns= "
        "--invert-match --column --no-messages --text --unrestricted --search-zip --debug",
    ),
    (
        "ag",
        "@isSwvlLcoQuUafz -G: -g: -A: -B: -C: -m: --hidden --ignore= --depth= --nocolor "
        "--color --vimgrep --noheading --nogroup --stats --literal --case-sensitive "
        "--ignore-case --smart-case --files-with-matches --count --all-text",
    ),
    (
        "ack",
        "@iwvlLcohHnsQfk -g: -A: -B: -C: -m: --nocolor --noheading --nogroup --type= "
        "--ignore-dir= --smart-case --literal --nopager --noenv --count",
    ),
    (
        "cut",
        "@sz -b: -c: -d: -f: --complement --output-delimiter= --bytes= --characters= "
        "--delimiter= --fields= --only-delimited --zero-terminated",
    ),
    ("wc", "@cmlLw --bytes --chars --lines --words --max-line-length --total="),
    (
        "sort",
        "@bdfghiMnRrVcCmsuz -k: -t: -S: -o: --key= --field-separator= --reverse "
        "--numeric-sort --general-numeric-sort --human-numeric-sort --unique --stable "
        "--version-sort --ignore-case --ignore-leading-blanks --dictionary-order --month-sort "
        "--random-sort --check=? --merge --zero-terminated --buffer-size= --output= --sort= "
        "--parallel=",
    ),
    (
        "uniq",
        "@cdDuiz -f: -s: -w: --count --repeated --unique --ignore-case --skip-fields= "
        "--skip-chars= --check-chars= --zero-terminated --all-repeated=? --group=?",
    ),
    ("tr", "@cCdst --complement --delete --squeeze-repeats --truncate-set1"),
    (
        "diff colordiff",
        "@cqrNabBwiyspentTu -U: -C: -W: -x: -X: --brief --unified=? --context=? --recursive "
        "--new-file --text --ignore-space-change --ignore-all-space --ignore-blank-lines "
        "--ignore-case --side-by-side --width= --exclude= --color=? --strip-trailing-cr "
        "--report-identical-files --normal --suppress-common-lines --label= --minimal "
        "--expand-tabs --initial-tab --show-c-function --no-dereference",
    ),
    (
        "cmp",
        "@bls -i: -n: --silent --quiet --verbose --print-bytes --bytes= --ignore-initial=",
    ),
    ("comm", "@123iz --check-order --nocheck-order --output-delimiter= --total"),
    ("join", "@iz -a: -e: -j: -o: -t: -v: -1: -2: --check-order --nocheck-order --header"),
    ("paste", "@sz -d: --delimiters= --serial --zero-terminated"),
    (
        "column",
        "@txneJL -s: -o: -c: -N: -R: -l: -H: -O: -W: -E: --table --separator= "
        "--output-separator= --json --table-columns= --output-width=",
    ),
    ("nl", "-b: -n: -w: -s: -v: -i: -h: -f: -d: @p"),
    ("fmt", "@sucp -w: -t -# --width= --split-only --uniform-spacing"),
    ("fold", "@sb -w: --width= --spaces --bytes"),
    ("expand", "@i -t: --initial --tabs="),
    ("unexpand", "@a -t: --all --first-only --tabs="),
    ("od", "@abcdfilosxv -A: -t: -N: -j: -w? -S? --format= --address-radix= --read-bytes="),
    ("hexdump", "@bcCdovx -n: -s: -e: --canonical --length= --skip="),
    ("xxd", "@pubieEda -l: -s: -c: -g: -o: -n: -C"),
    ("strings", "@adwf -n: -t: -e: -# --bytes= --radix= --all --encoding= --print-file-name"),
    ("base64 base32", "@di -w: --decode --ignore-garbage --wrap="),
    ("md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum", _SUM),
    ("cksum", "-a: -l: --algorithm= --untagged --base64 --raw --tag --length= --check"),
    ("sum", "@rs --sysv"),
    (
        "stat",
        "@fLt -c: --format= --printf= --file-system --dereference --terse --cached=",
    ),
    (
        "file",
        "@bizLhskNp --mime --mime-type --mime-encoding --brief --dereference --no-dereference",
    ),
    (
        "readlink",
        "@femnqsvz --canonicalize --canonicalize-existing --canonicalize-missing "
        "--no-newline --quiet --silent --verbose --zero",
    ),
    (
        "realpath",
        "@emLPqsz --canonicalize-existing --canonicalize-missing --logical --physical --quiet "
        "--relative-to= --relative-base= --strip --no-symlinks --zero",
    ),
    (
        "tree",
        "@adfilxCnshDpugFJXtrvQNq -L: -P: -I: --noreport --dirsfirst --du --prune "
        "--gitignore --charset= --filelimit= --sort= --matchdirs --ignore-case",
    ),
    (
        "ps",
        "@eAafFHlLjTwxuMmrNyZ -u: -U: -p: -C: -o: -G: -g: -q: -s: -t: --forest --sort= "
        "--pid= --ppid= --no-headers --no-heading --headers --cols= --width= --columns= "
        "--user= --format= --deselect",
    ),
    (
        "pgrep",
        "@aclnovxfiwrA -u: -U: -P: -g: -G: -s: -t: -d: --list-full --list-name --count "
        "--full --newest --oldest --exact --ignore-case --parent= --delimiter= --older=",
    ),
    ("pidof", "@sxcqzn -o: -S:"),
    ("top", "@bcHiSs -n: -d: -p: -u: -U: -o: -w? -E: -e: -O"),
    (
        "netstat",
        "@antulprisecWxo46gMv --tcp --udp --listening --program --numeric --all --route "
        "--interfaces --statistics --extend --continuous --wide --unix --timers --groups",
    ),
    (
        "ss",
        "@antulprisemxwHO46ZbEM0 -f: -A: --all --numeric --tcp --udp --listening --processes "
        "--info --summary --extended --memory --unix --raw --no-header --oneline --ipv4 --ipv6 "
        "--options --resolve --family= --query= --context",
    ),
    (
        "lsof",
        "@nPtlRUwVXablsoh -i? -p: -u: -c: -g: -d: -s: -a -K? +D: +d:",
    ),
    ("ping ping6", "@nqDOvaAR46Uv -c: -i: -W: -w: -s: -t: -I: -M: -Q: -l:"),
    (
        "df",
        "@ahHiklPTv -t: -x: -B: --total --output=? --human-readable --si --inodes --local "
        "--portability --print-type --type= --exclude-type= --block-size= --all --sync "
        "--no-sync",
    ),
    (
        "du",
        "@abchkmsxLPHSl0D -d: -t: -B: -X: --max-depth= --summarize --human-readable "
        "--apparent-size --bytes --total --exclude= --one-file-system --time=? --time-style= "
        "--threshold= --si --block-size= --count-links --dereference --inodes --all "
        "--null --separate-dirs --dereference-args --no-dereference",
    ),
    (
        "free",
        "@bkmghltwvL -s: -c: --human --mega --giga --kilo --bytes --tera --total --wide --si "
        "--lohi --committed --seconds= --count= --kibi --mebi --gibi",
    ),
    ("uptime", "@ps --pretty --since"),
    (
        "uname",
        "@asnrvmpio --all --kernel-name --nodename --kernel-release --kernel-version "
        "--machine --processor --hardware-platform --operating-system",
    ),
    ("id", "@ugGnrzaZ --user --group --groups --name --real --zero --context"),
    ("who", "@abdHlmpqrstTu --all --boot --heading --count --users --mesg --short"),
    ("w", "@hsfiuo --no-header --short --from --ip-addr --old-style"),
    ("last", "@FxwiadR -n: -s: -t: -p: --limit= --since= --until= --fullnames --system"),
    ("lastlog", "-u: -b: -t: --user= --before= --time="),
    ("lscpu", "@abcexyJsp --json --extended=? --parse=? --all --online --offline --hex"),
    (
        "lsblk",
        "@abdDfiJlmnOpPrsStTzAME -e: -o: -x: -I: --all --bytes --nodeps --discard --exclude= "
        "--fs --ascii --json --list --perms --noheadings --output= --output-all --paths "
        "--pairs --raw --inverse --scsi --topology --sort= --tree=?",
    ),
    (
        "findmnt",
        "@aAbcDefiJklmnprRsuUvx -M: -N: -o: -O: -S: -t: -T: -F: --json --list --output= "
        "--types= --target= --source= --df --real --pseudo --kernel --fstab --mtab --raw "
        "--noheadings --first-only --submounts",
    ),
    ("blkid", "@lpikdg -o: -s: -t: -L: -U: -n: -u: --output= --match-tag= --probe --info"),
    ("lsns", "@lnJruW -o: -p: -t: --json --list --output= --task= --type= --noheadings"),
    ("lspci", "@vkntbDPxmqQMA -s: -d: -i: -# --json"),
    ("lsusb", "@vt -s: -d: -D: --verbose --tree"),
    ("iostat", "@cdhkmNtxyzp -p? -# --human --pretty"),
    ("mpstat", "@uAIn -P: -I: -N: -# -o:"),
    ("vmstat", "@asdSDtwnfm -S: -# --active --stats --disk --timestamp --wide --unit="),
    ("nproc", "--all --ignore="),
    ("seq", "@w -f: -s: --format= --separator= --equal-width"),
    (
        "numfmt",
        "-d: --to= --from= --suffix= --padding= --format= --field= --delimiter= "
        "--header=? --invalid= --round= --grouping --from-unit= --to-unit= -z --zero-terminated",
    ),
    ("type", "@aftpP"),
    ("which", "@as --all --skip-alias --skip-functions"),
    ("whereis", "@bmsul -B: -M: -S: -f"),
    ("ulimit", "@SHabcdefiklmnpqrstuvxPT"),
    ("umask", "@Sp"),
    ("history", "-#"),
    ("set", "@euxvfnCBHmbhkpPTaE -o: +o: +e +u +x +v +f +o"),
    ("shopt", "@psuqo"),
    ("hash", "@rlt"),
    ("cd pushd", "@LPe@ -#"),
    (
        "less more",
        "@NSRrFXiIMmnqQsEefgGwW -x: -z: -j: -b: -h: -y: -p: -P: -# --quit-if-one-screen "
        "--no-init --RAW-CONTROL-CHARS --chop-long-lines --LINE-NUMBERS",
    ),
    (
        "man",
        "@kfawWK -s: -S: -L: -M: -m: --apropos --whatis --where --path --sections= "
        "--locale= --global-apropos --all",
    ),
    (
        "sed",
        "@nErsuz -i? -e: -l: --quiet --silent --regexp-extended --separate --unbuffered "
        "--null-data --in-place=? --expression= --posix --debug --sandbox --line-length= "
        "--follow-symlinks",
    ),
    (
        "awk gawk mawk nawk",
        "-F: -v: @bcPOSNtr --field-separator= --assign= --posix --traditional --sandbox "
        "--characters-as-bytes --re-interval --lint=? --optimize --no-optimize --csv -k "
        "--bignum? -M",
    ),
    (
        "curl",
        "@sSfLIivkgGN0qZO46 -H: -A: -e: -m: -w: -o: -r: -X: -u: -x: -D: -c: -b: -d: -F: -T: "
        "-C: -# --silent --show-error --fail --fail-with-body --location --head --include "
        "--verbose --insecure --compressed --globoff --header= --user-agent= --referer= "
        "--max-time= --connect-timeout= --retry= --retry-delay= --retry-max-time= "
        "--write-out= --output= --remote-name --range= --request= --user= --url= "
        "--max-redirs= --http1.0 --http1.1 --http2 --ipv4 --ipv6 --no-progress-meter "
        "--progress-bar --resolve= --limit-rate= --proxy= --noproxy= --time-cond= "
        "--dump-header= --cookie-jar= --cookie= --trace= --trace-ascii= --stderr= --data= "
        "--data-raw= --data-binary= --data-urlencode= --form= --upload-file= --json= "
        "--continue-at= --no-buffer --tlsv1.2 --tlsv1.3 --get --retry-connrefused "
        "--retry-all-errors --create-dirs",
    ),
    (
        "wget",
        "@qvScNrk46 -O: -o: -a: -P: -t: -T: -U: -w: -l: -nv -np -nd -nH -nc --quiet "
        "--verbose --no-verbose --server-response --show-progress --progress= "
        "--output-document= --output-file= --append-output= --directory-prefix= --continue "
        "--timestamping --tries= --timeout= --user-agent= --header= --no-check-certificate "
        "--spider --max-redirect= --recursive --level= --no-parent --no-directories "
        "--no-host-directories --inet4-only --inet6-only --limit-rate= --wait= --no-clobber "
        "--method= --post-data= --post-file= --body-data= --body-file= --content-disposition "
        "--no-cache --https-only --accept= --reject= --mirror --page-requisites --convert-links",
    ),
    (
        "date",
        "@uRI -d: -r: -I? --iso-8601=? --date= --utc --universal --rfc-3339= --rfc-email "
        "--reference= --debug -s: --set=",
    ),
    (
        "dmesg",
        "@THkuxtSrePL -l: -f: --ctime --human --level= --facility= --kernel --userspace "
        "--decode --notime --color=? --time-format= --since= --until= --reltime --nopager "
        "--raw --show-delta --force-prefix",
    ),
    (
        "journalctl",
        "@fkrxeqalm -u: -n: -b? -p: -S: -U: -o: -t: -g: -D: -M: -# --unit= --user-unit= "
        "--lines= --follow --boot=? --priority= --since= --until= --dmesg --output= "
        "--reverse --catalog --pager-end --no-pager --quiet --no-hostname --utc --user "
        "--system --identifier= --grep= --list-boots --disk-usage --all --no-full --full "
        "--case-sensitive=? --directory= --machine= --merge --output-fields= --no-tail "
        "--facility= --show-cursor --after-cursor= --cursor= --since-boot",
    ),
    (
        "hostname",
        "@fiIsdAyF --fqdn --long --short --domain --all-fqdns --ip-address "
        "--all-ip-addresses --alias --nis --yp",
    ),
    (
        "cp",
        "@abdfiLnPprRuvxT -t: -S: --archive --backup=? --force --interactive --no-clobber "
        "--no-dereference --dereference --preserve=? --no-preserve= --parents --recursive "
        "--update=? --verbose --one-file-system --no-target-directory --target-directory= "
        "--suffix= --reflink=? --sparse= --attributes-only --remove-destination "
        "--strip-trailing-slashes --debug",
    ),
    (
        "ln",
        "@sfnrvTbiLP -S: --symbolic --force --no-dereference --relative --verbose "
        "--no-target-directory --backup=? --interactive --logical --physical --suffix=",
    ),
    ("mkdir", "@pvZ -m: --parents --verbose --mode="),
    ("touch", "@acmhf -d: -t: -r: --date= --reference= --no-create --time= --no-dereference"),
    ("tee", "@aip --append --ignore-interrupts --output-error=?"),
    (
        "tar",
        "@cxtruAzjJZavfpkmoOhSWwlBiMG -C: -f: -b: -N: -X: -T: -K: -L: -V: --create "
        "--extract --get --list --append --update --delete --concatenate --catenate --gzip "
        "--gunzip --ungzip --bzip2 --xz --zstd --lzma --lzip --lzop --auto-compress "
        "--compress --uncompress --file= --directory= --verbose --exclude= --exclude-vcs "
        "--exclude-vcs-ignores --exclude-caches --strip-components= --no-same-owner "
        "--no-same-permissions --same-permissions --preserve-permissions --keep-old-files "
        "--skip-old-files --keep-newer-files --overwrite --overwrite-dir --to-stdout --totals "
        "--wildcards --no-wildcards --anchored --no-anchored --one-file-system "
        "--numeric-owner --owner= --group= --mode= --mtime= --sort= --exclude-from= "
        "--files-from= --null --no-null --warning= --show-transformed-names --occurrence=? "
        "--no-recursion --recursion --ignore-case --unlink-first --blocking-factor= "
        "--newer= --after-date= --label= --format= --posix --acls --xattrs --selinux "
        "--no-acls --no-xattrs --sparse --verify --delay-directory-restore "
        "--ignore-failed-read --ignore-zeros --touch --full-time --utc --dereference "
        "--hard-dereference --interactive --confirmation --check-links --level= --remove-files",
    ),
    (
        "zip",
        "@rqvjufDXlgRAzF -# -x: -i: -n: -s: --recurse-paths --quiet --verbose --junk-paths "
        "-ll --no-dir-entries --no-extra --grow --latin --update --freshen --exclude= --include=",
    ),
    ("unzip", "@ltvZonqjCLufpczXa -d: -x: -qq -P:"),
    ("gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd zcat", _GZIP),
    (
        "dpkg",
        "@lLsSpc --list --listfiles --status --search --print-avail --get-selections "
        "--contents --print-architecture --print-foreign-architectures --no-pager " + _COMMON,
    ),
    (
        "dpkg-query",
        "@lLsSpW -f: --showformat= --show --list --listfiles --status --search --print-avail "
        "--no-pager " + _COMMON,
    ),
    ("printf", "*"),
    (
        "yq",
        "@rPenjCMN -o: -I: -p: --output-format= --input-format= --prettyPrint --no-colors "
        "--colors --exit-status --null-input --indent= --unwrapScalar=? --no-doc",
    ),
    ("test [", "*"),
    ("declare typeset local readonly export", "@p"),
    ("find", "*"),
    ("env", "*"),
    ("trap", "@lp"),
)

OPTIONS: dict[str, OptionSpec] = {
    name: parse_spec(spec) for names, spec in _TABLE for name in names.split()
}
