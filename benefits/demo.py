"""The demo's 信易+ pieces: merchants, terminals, branches and offers in several scenes."""


def seed(payload: dict) -> None:
    """Seed the benefits catalog for the demo city and add `merchants` to the credentials payload."""
