"""Skills: the code-skill contract, the library, the sandboxed runner and matching.

Kept free of imports: ``python -m core.skills.child`` starts from here inside the sandbox.
"""
