"""What every project-changing command stands on: git calls, the per-repository lock,
all-or-nothing transactions, interrupt handling and finding the project root.
"""
