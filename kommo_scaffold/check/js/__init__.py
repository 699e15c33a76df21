"""The JavaScript side of kommo check: V8 (mini-racer) for the browser's verdict and the widget
as Kommo constructs it (engine, harness.js), tree-sitter for reading structure (parser,
queries).
"""
