"""Making and growing widget projects: kommo-new, add-area, remove-area, update and set, their
answers, prompts and placeholder logos.
"""
