"""`flask scores recompute` and `flask records import`: the operator's batch tools."""

from datetime import date, timedelta

from sqlalchemy import update

from app.citizens.models import Citizen
from app.extensions import db
from app.scoring.models import Score
from tests.factories import gen_citizen, gen_department, new_id_number


def _totals():
    return dict(db.session.execute(db.select(Score.citizen_id, Score.total)).all())


def test_recompute_all_in_chunks_is_idempotent_and_resumable(runner, ctx):
    citizens = [gen_citizen(f"市民{i}") for i in range(7)]
    gen_citizen("未授权", consent=False)
    db.session.execute(update(Score).values(total=1, law=0))  # as if the stored scores had gone stale
    db.session.commit()
    result = runner.invoke(args=["scores", "recompute", "--all", "--chunk-size", "3"])
    assert result.exit_code == 0, result.output
    assert "processed=7 changed=7" in result.output
    assert set(_totals().values()) == {655}
    assert len(_totals()) == len(citizens)  # the citizen without consent has no score

    again = runner.invoke(args=["scores", "recompute", "--all", "--chunk-size", "3"])
    assert "processed=7 changed=0" in again.output

    # An interrupted run left its cursor behind: --resume continues after the last finished chunk.
    from app.extensions import kv

    kv.set("scores:recompute:all:cursor", citizens[3].id)
    resumed = runner.invoke(args=["scores", "recompute", "--all", "--resume", "--chunk-size", "3"])
    assert "processed=3 changed=0" in resumed.output


def test_recompute_changed_only_touches_marked_citizens(runner, ctx):
    first, second = gen_citizen("甲一"), gen_citizen("乙二")
    db.session.execute(update(Score).values(total=1))
    db.session.execute(update(Citizen).where(Citizen.id == first.id).values(needs_recompute=True))
    db.session.commit()
    result = runner.invoke(args=["scores", "recompute", "--changed"])
    assert "processed=1 changed=1" in result.output
    assert _totals() == {first.id: 655, second.id: 1}


def test_recompute_due_touches_citizens_whose_score_can_have_changed(runner, ctx):
    first, second = gen_citizen("甲一"), gen_citizen("乙二")
    db.session.execute(update(Score).values(total=1))  # stale, but nothing says so: not due
    db.session.execute(update(Score).where(Score.citizen_id == first.id).values(next_change=date.today()))
    db.session.commit()
    result = runner.invoke(args=["scores", "recompute", "--due"])
    assert "processed=1 changed=1" in result.output
    assert _totals() == {first.id: 655, second.id: 1}


def test_csv_import_reports_bad_lines_and_keeps_good_ones(runner, ctx, tmp_path):
    number = new_id_number(date(1970, 1, 1))
    citizen = gen_citizen("蔡元培", number)
    gen_department("SX_VOLUNTEER", ["HN_VOLUNTEER"])
    day = (date.today() - timedelta(days=10)).isoformat()
    path = tmp_path / "volunteer.csv"
    path.write_text(
        "external_id,id_number,type_code,occurred_at,quantity\n"
        f"V-1,{number},HN_VOLUNTEER,{day},30\n"
        f"V-2,{number},HN_VOLUNTEER,2024-13-01,20\n"
        f"V-3,440308199901101513,HN_VOLUNTEER,{day},20\n"
        f"V-4,{number},HN_VOLUNTEER,{day},20\n",
        encoding="utf-8",
    )
    errors = tmp_path / "errors.csv"
    result = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER",
                                 "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    assert "accepted=2 updated=0 unchanged=0 rejected=2" in result.output
    assert "line 3: impossible_date" in result.output and "line 4: invalid_id_number" in result.output
    assert "440308199901101513" not in result.output
    assert errors.read_text(encoding="utf-8").count("\n") == 3
    runner.invoke(args=["scores", "recompute", "--changed"])
    assert _totals()[citizen.id] == 655 + 25  # 50 hours of volunteering: 5 points per full 10 hours

    again = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER"])
    assert "accepted=0 updated=0 unchanged=2 rejected=2" in again.output


def test_import_refuses_an_unknown_department(runner, ctx, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("external_id\n", encoding="utf-8")
    result = runner.invoke(args=["records", "import", str(path), "--department", "NOPE"])
    assert result.exit_code != 0 and "unknown department" in result.output
