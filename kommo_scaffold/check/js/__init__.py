"""The JavaScript reader behind kommo check and kommo pack: tree-sitter's parse, the
queries that read a widget's structure, and the early errors the grammar lets through.
"""
