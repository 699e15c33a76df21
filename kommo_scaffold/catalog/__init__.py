"""The facts about Kommo's platform that every other part derives from: the connection areas,
the built-in i18n texts, the public-listing text limits and the widget version format, plus
the generator that writes the copier template's catalog blocks from them.

Nothing here imports another part of kommo_scaffold.
"""
