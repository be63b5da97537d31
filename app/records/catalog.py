"""The rules in force, whose catalog says which record types exist, their grades and how long each counts.

Here, at the bottom of the records layer, because 归集 checks every row against the catalog; app/scoring scores
with the same rules (``app.scoring.service.rules`` is this function).
"""

from __future__ import annotations

from flask import current_app

from score_model import Rules, load_rules


def rules() -> Rules:
    return load_rules(current_app.config["RULES_VERSION"])
