import pytest

from benefits.catalog import ensure_default_scenes


@pytest.fixture(autouse=True)
def _scenes(app):
    """The migration inserts the 13 scenes, but every test wipes every table afterwards: put them back."""
    with app.app_context():
        ensure_default_scenes()
    yield
