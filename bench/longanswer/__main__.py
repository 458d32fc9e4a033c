"""``python -m bench.longanswer [KB[line] ...]``."""

from bench.longanswer import main

main()
