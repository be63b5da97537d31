"""Every database gets the 13 scenes of the plan from migration 0003, without any seed command."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from app.config import TestConfig
from app.extensions import db
from app.factory import create_app
from benefits.catalog import DEFAULT_SCENES, ensure_default_scenes
from benefits.models import Scene


def test_fresh_database_has_the_thirteen_scenes_and_downgrade_removes_the_tables(tmp_path):
    app = create_app(TestConfig, INSTANCE_PATH=tmp_path, KEYS_DIR=tmp_path / "keys",
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}", REDIS_URL=None)
    with app.app_context():
        upgrade()
        rows = db.session.execute(select(Scene.code, Scene.name, Scene.provider).order_by(Scene.sort_order)).all()
        assert [tuple(row) for row in rows] == [(code, name, provider) for code, name, _, provider in DEFAULT_SCENES]
        assert ensure_default_scenes() == 0  # idempotent
        db.session.remove()
        downgrade(revision="0002")
        assert "benefit_scene" not in db.inspect(db.engine).get_table_names()
        upgrade()
        db.session.remove()
        db.engine.dispose()
