"""CSV import from what departments really send: GBK or Latin-1 files, and an errors file a spreadsheet opens
safely (no cell runs as a formula)."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from tests.factories import gen_citizen, gen_department, new_id_number


def _rows(number: str, *external_ids: str) -> str:
    day = (date.today() - timedelta(days=10)).isoformat()
    lines = ["external_id,id_number,type_code,occurred_at,quantity"]
    lines += [f"{external_id},{number},HN_VOLUNTEER,{day},10" for external_id in external_ids]
    return "\n".join(lines) + "\n"


def _setup():
    number = new_id_number(date(1970, 1, 1))
    gen_citizen("蔡元培", number)
    gen_department("SX_VOLUNTEER", ["HN_VOLUNTEER"])
    return number


def test_a_gbk_file_is_read_as_gbk(runner, ctx, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_rows(_setup(), "绍兴-志愿-1", "绍兴-志愿-2").encode("gbk"))
    result = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER"])
    assert result.exit_code == 0, result.output
    assert "accepted=2" in result.output


def test_a_latin1_file_is_refused_with_a_clear_message_then_read_with_encoding(runner, ctx, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(_rows(_setup(), "café-1").encode("latin-1"))
    refused = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER"])
    assert refused.exit_code != 0
    assert refused.exception is None or isinstance(refused.exception, SystemExit), refused.exception
    assert "--encoding" in refused.output and "UTF-8" in refused.output and "Traceback" not in refused.output
    read = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER",
                               "--encoding", "latin-1"])
    assert read.exit_code == 0, read.output
    assert "accepted=1" in read.output


def test_an_unknown_encoding_name_is_a_clear_error(runner, ctx, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(_rows(_setup(), "A-1").encode())
    result = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER",
                                 "--encoding", "klingon"])
    assert result.exit_code != 0 and "klingon" in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)


def test_the_errors_file_neutralises_formulas(runner, ctx, tmp_path):
    _setup()
    path = tmp_path / "bad.csv"
    path.write_text(_rows("440308199901101513", "=HYPERLINK(\"http://x\";\"x\")", "+1", "-2", "@SUM(A1)", "ok"),
                    encoding="utf-8")
    errors = tmp_path / "errors.csv"
    result = runner.invoke(args=["records", "import", str(path), "--department", "SX_VOLUNTEER",
                                 "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    with errors.open(encoding="utf-8", newline="") as handle:
        cells = [value for row in csv.DictReader(handle) for value in row.values()]
    assert cells and not [value for value in cells if value[:1] in ("=", "+", "-", "@")], cells
    assert "'=HYPERLINK(\"http://x\";\"x\")" in cells
