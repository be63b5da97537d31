"""Issuing a personal credit report, beside its floor: the same HTML laid out by WeasyPrint and signed by pyHanko.

    python bench/reports.py --n 10        # a throwaway SQLite city under a temporary directory

For each scope it times ``app.reports.service.request_report`` (snapshot, render, sign, store, audit) over N
reports and prints the median beside the floor measured in the same run: ``render.render_pdf`` of the same
context plus ``signing.sign`` of its output, nothing else. The difference is what our own code costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import TestConfig  # noqa: E402
from app.factory import create_app  # noqa: E402


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(TestConfig, INSTANCE_PATH=Path(folder), KEYS_DIR=Path(folder) / "keys",
                         SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db",
                         REPORT_REQUESTS_PER_CITIZEN="1000 per day")
        with app.test_request_context():
            from flask_migrate import upgrade

            from app.reports import render, service, signing
            from app.timeutil import utcnow
            from tests.factories import gen_citizen, new_id_number

            upgrade()
            citizen = gen_citizen("王丽", new_id_number(date(1985, 3, 9)), "13900001111")
            signer = signing.signer()
            service.request_report(citizen, "credit_loan", "level")  # warm-up: fonts, the demo CA, the signer
            print(f"issuing {args.n} reports per scope (median; floor = WeasyPrint layout + pyHanko signature)")
            print(f"{'scope':<12} {'issue (ms)':>11} {'floor (ms)':>11} {'ours (ms)':>10} {'PDF (KB)':>9}")
            for scope in ("level", "level_score", "full"):
                issued, floor, sizes = [], [], []
                for _ in range(args.n):
                    start = time.perf_counter()
                    report = service.request_report(citizen, "credit_loan", scope)
                    issued.append(time.perf_counter() - start)
                    sizes.append(len(report.pdf))
                    context = {"city": "绍兴", "score_name": "绍兴信用分", "number": report.number,
                               "masked_name": report.masked_name, "masked_id_number": report.masked_id_number,
                               "purpose_name": "信易贷", "scope_name": service.SCOPES[scope], "as_of": "",
                               "valid_from": "", "valid_until": "", "level": report.level,
                               "level_name": report.level_name, "total": report.total, "max_total": 1000,
                               "verify_url": service.verify_url(report.number), "full": None}
                    start = time.perf_counter()
                    signer.sign(render.render_pdf(context), city="绍兴", now=utcnow())
                    floor.append(time.perf_counter() - start)
                print(f"{scope:<12} {_median_ms(issued):>11.0f} {_median_ms(floor):>11.0f} "
                      f"{_median_ms(issued) - _median_ms(floor):>10.0f} {statistics.median(sizes) / 1024:>9.0f}")


if __name__ == "__main__":
    main()
