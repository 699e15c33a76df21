"""Everything that runs copier: the copy and update calls, the template store copier reads,
and the adaptations that do copier's repeated work once (compiled Jinja, template clones,
the cache folder they live in).

Every use of a copier, plumbum or questionary internal lives in this package.
"""
