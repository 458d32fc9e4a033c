"""The fast matcher skips examples by an upper bound: it must choose exactly what scoring
every example in full would choose."""

from __future__ import annotations

import random
from pathlib import Path

from core.skills.loader import scan
from core.skills.matching import DEFAULT_THRESHOLD, Match, best_match, match_example
from core.skills.model import CodeSkill

ROOT = Path(__file__).resolve().parents[3]


def _builtin() -> list[CodeSkill]:
    skills, _ = scan(ROOT / "skills", "builtin")
    return [s for s in skills if isinstance(s, CodeSkill)]


def _slow(request: str, skills: list[CodeSkill], threshold: float) -> Match | None:
    best: Match | None = None
    for skill in skills:
        for example in skill.examples:
            score, params = match_example(request, example, skill)
            if score >= threshold and (best is None or score > best.score):
                best = Match(skill, params, score, example)
    return best


def _requests(skills: list[CodeSkill], n: int) -> list[str]:
    """Examples filled with plausible values, then shuffled, cut, padded and misspelt."""
    rng = random.Random(7)
    values = ["web1", "8080", "/var/log/syslog", "example.com", "error", "nginx", '"two words"']
    vocab = [w for s in skills for e in s.examples for w in e.split() if "{" not in w]
    out = []
    for _ in range(n):
        skill = rng.choice(skills)
        words = rng.choice(skill.examples).split()
        words = [rng.choice(values) if "{" in w else w for w in words]
        for _ in range(rng.randrange(4)):
            op = rng.randrange(4)
            i = rng.randrange(len(words) + 1)
            if op == 0:
                words.insert(i, rng.choice(vocab))
            elif op == 1 and len(words) > 1:
                del words[min(i, len(words) - 1)]
            elif op == 2 and words:
                j = min(i, len(words) - 1)
                words[j] = words[j][:-1] + "x"
            else:
                words.insert(i, rng.choice(values))
        out.append(" ".join(words) + rng.choice(["", "?", "!", " please"]))
    return out


def test_the_bounds_never_change_the_choice() -> None:
    skills = _builtin()
    requests = _requests(skills, 300)
    matched = 0
    for threshold in (DEFAULT_THRESHOLD, 0.6):
        for request in requests:
            fast = best_match(request, skills, threshold)
            slow = _slow(request, skills, threshold)
            assert (fast and (fast.skill.name, fast.example, fast.score, fast.params)) == (
                slow and (slow.skill.name, slow.example, slow.score, slow.params)
            ), request
            matched += fast is not None
    assert matched > 150  # the corpus exercises real matches, not only misses
