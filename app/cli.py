"""Operator commands: ``flask citizens import``, ``flask records import``, ``flask scores recompute``,
``flask audit verify`` / ``chain``, ``flask demo …``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import click
from flask import Flask, g
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.errors import ApiError
from app.extensions import db, kv

records_cli = AppGroup("records", help="信用记录归集")
scores_cli = AppGroup("scores", help="信用分计算")
audit_cli = AppGroup("audit", help="全过程留痕")
staff_cli = AppGroup("staff", help="信用中心工作人员账号")
departments_cli = AppGroup("departments", help="数据报送部门与接口密钥")
keys_cli = AppGroup("keys", help="签名密钥与个人信息加密密钥")
citizens_cli = AppGroup("citizens", help="人口库与居民登记")

_RESUME_KEY = "scores:recompute:all:cursor"


def _first_error(error: ApiError) -> str:
    if isinstance(error.errors, dict):
        for messages in error.errors.values():
            return " ".join(messages) if isinstance(messages, list) else str(messages)
    return ""


@records_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", "department_code", required=True, help="报送部门代码")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="把被拒绝的行写入这个 CSV 文件")
@click.option("--encoding", default=None,
              help="文件编码（默认自动识别 UTF-8 或 GBK/GB18030；其他编码如 latin-1 请明确指定）")
def import_records(path: Path, department_code: str, errors_path: Path | None, encoding: str | None):
    """Import records from a CSV file (header: external_id,id_number,type_code,occurred_at,…).

    Runs the same import as the department desk's upload (app/records/imports.py); the batch and its rejected rows
    are kept for the desk's batch history."""
    from app.audit.service import Actor
    from app.records import imports
    from app.records.models import Department

    department = db.session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise click.ClickException(f"unknown department {department_code}")
    g.actor = Actor("department", department.code)
    try:
        text = imports.decode_upload(path.read_bytes(), encoding)
    except ApiError as error:
        raise click.ClickException(f"{path.name}: {error.message} {_first_error(error)}") from None
    total_rows = sum(1 for _ in imports.csv_rows(io.StringIO(text)))
    with click.progressbar(length=total_rows, label="导入信用记录", file=sys.stderr) as bar:
        done = {"n": 0}

        def progress(batch):
            bar.update(batch.processed_rows - done["n"])
            done["n"] = batch.processed_rows

        batch = imports.import_csv(department, text, source="file", filename=path.name, started_by="cli",
                                   on_progress=progress)
    rejected = batch.rejected
    click.echo(f"accepted={batch.accepted} updated={batch.updated} unchanged={batch.unchanged} "
               f"rejected={batch.rejected_count}")
    for entry in rejected[:20]:
        click.echo(f"  line {entry['index']}: {entry['code']} {entry.get('external_id') or ''} {entry['message']}")
    if batch.rejected_count > 20:
        click.echo(f"  … {batch.rejected_count - 20} more")
    if errors_path and rejected:
        with errors_path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["index", "external_id", "code", "field", "message"])
            writer.writeheader()
            writer.writerows({key: imports.spreadsheet_safe(value) for key, value in row.items()} for row in rejected)
        click.echo(f"rejected rows written to {errors_path}")
    if batch.recompute == "queued":
        click.echo("citizens are marked for recompute: run `flask scores recompute --changed`")


@citizens_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partial", is_flag=True,
              help="文件只是人口库的一部分：不把文件中没有的居民标记为不在册")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="把被拒绝的行写入这个 CSV 文件")
@click.option("--chunk-size", type=int, default=5000)
def import_citizens(path: Path, partial: bool, errors_path: Path | None, chunk_size: int):
    """Import the population registry (人口库) from a CSV file (header: name,id_number,phone,status)."""
    import time

    from app.audit.service import Actor
    from app.citizens import registry

    g.actor = Actor("system", "registry-import")
    with path.open("rb") as handle:
        total_rows = max(sum(1 for _ in handle) - 1, 0)
    started = time.perf_counter()
    errors_file = errors_path.open("w", encoding="utf-8", newline="") if errors_path else None
    writer = csv.DictWriter(errors_file, fieldnames=["line", "code", "message"]) if errors_file else None
    if writer:
        writer.writeheader()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle, \
                click.progressbar(length=total_rows, label="导入人口库", file=sys.stderr) as bar:
            report = registry.import_registry(registry.read_rows(handle), snapshot=not partial,
                                              chunk_size=chunk_size, on_progress=bar.update,
                                              on_rejected=writer.writerow if writer else None)
    except registry.RegistryFileError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if errors_file:
            errors_file.close()
    seconds = time.perf_counter() - started
    click.echo(f"rows={report.rows} added={report.added} updated={report.updated} unchanged={report.unchanged} "
               f"unlisted={report.unlisted} rejected={report.rejected} attached={report.attached_citizens} "
               f"seconds={seconds:.1f} rate={(report.rows + report.rejected) / max(seconds, 1e-9):,.0f}/s")
    for entry in report.first_rejections:
        click.echo(f"  line {entry['line']}: {entry['code']} {entry['message']}")
    if report.rejected > len(report.first_rejections):
        click.echo(f"  … {report.rejected - len(report.first_rejections)} more")
    if errors_path and report.rejected:
        click.echo(f"rejected rows written to {errors_path}")


@scores_cli.command("recompute")
@click.option("--all", "mode", flag_value="all", help="重算所有已授权居民")
@click.option("--changed", "mode", flag_value="changed", default=True, help="只重算记录有变化的居民（默认）")
@click.option("--due", "mode", flag_value="due",
              help="重算信用分可能已变化的居民：有新记录、记录到期或生效、规则版本变化（每晚的例行任务）")
@click.option("--resume", is_flag=True, help="--all 被中断后，从上次完成的位置继续")
@click.option("--chunk-size", type=int, default=None)
def recompute(mode: str, resume: bool, chunk_size: int | None):
    """Recompute stored scores in chunks; safe to re-run after an interruption."""
    from app.citizens.models import Citizen
    from app.citizens.service import scoring_consent_clause
    from app.scoring import service
    from app.timeutil import city_today

    stmt = select(func.count()).select_from(Citizen).where(scoring_consent_clause())
    if mode == "changed":
        stmt = stmt.where(Citizen.needs_recompute)
    elif mode == "due":
        stmt = stmt.where(service.due_clause(city_today(), service.rules().version))
    start_after = int(kv.get(_RESUME_KEY) or 0) if (resume and mode == "all") else 0
    if start_after:
        stmt = stmt.where(Citizen.id > start_after)
    todo = db.session.scalar(stmt) or 0
    with click.progressbar(length=todo, label=f"重新计算信用分（{mode}）", file=sys.stderr) as bar:
        done = {"n": 0}

        def progress(stats):
            bar.update(stats.processed - done["n"])
            done["n"] = stats.processed
            if mode == "all":
                kv.set(_RESUME_KEY, stats.last_citizen_id)

        stats = service.recompute(mode, chunk_size=chunk_size, start_after=start_after, on_chunk=progress,
                                  reason="批量重新计算" if mode == "all" else "信用记录变更后重新计算")
    if mode == "all":
        kv.delete(_RESUME_KEY)
    click.echo(f"processed={stats.processed} changed={stats.changed}")


@audit_cli.command("verify")
def verify_audit():
    """Link the entries written so far, then walk the hash chain and report the first broken link (exit status 1)."""
    from app.audit.service import chain_pending, verify_chain

    linked = chain_pending()
    report = verify_chain()
    if report.ok:
        written_since = f"; {report.pending} written since, not linked yet" if report.pending else ""
        signed = f", matching the signed checkpoint {report.checkpoint}" if report.checkpoint else ""
        click.echo(f"audit chain intact: {report.checked} entries ({linked} newly linked{written_since}){signed}")
        return
    if report.broken_at is not None:
        click.echo(f"audit chain BROKEN at seq {report.broken_at}: {report.problem} "
                   f"({report.checked} entries verified before it)", err=True)
    if report.unsealed:
        click.echo(f"audit trail BROKEN: {len(report.unsealed)} pending entries changed before it was linked "
                   f"(audit_pending ids {', '.join(map(str, report.unsealed[:20]))}); left out of the chain", err=True)
    sys.exit(1)


@audit_cli.command("chain")
def chain_audit():
    """Link pending audit entries into the hash chain now (the audit-chain job does this every 5 seconds)."""
    from app.audit.service import chain_pending

    click.echo(f"linked {chain_pending()} audit entries")


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default=None)
def create_staff(username: str, role: str, password: str, display_name: str | None):
    from app.auth.service import create_staff as create

    try:
        create(username, password, role, display_name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"created {role} {username}")


@departments_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--types", required=True, help="逗号分隔的记录类型代码")
def create_department(code: str, name: str, types: str):
    from app.auth.service import create_department as create
    from app.scoring.service import rules

    record_types = [t.strip() for t in types.split(",") if t.strip()]
    unknown = [t for t in record_types if t not in rules().catalog]
    if unknown:
        raise click.ClickException(f"unknown record types: {', '.join(unknown)}")
    create(code, name, record_types)
    db.session.commit()
    click.echo(f"created department {code}")


@departments_cli.command("issue-key")
@click.argument("code")
def issue_key(code: str):
    """Print a new API key for the department (shown once; only its digest is stored)."""
    from app.auth.service import issue_department_key
    from app.records.models import Department

    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise click.ClickException(f"unknown department {code}")
    key = issue_department_key(department)
    db.session.commit()
    click.echo(key)


@departments_cli.command("create-user")
@click.argument("code")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default=None)
def create_department_user(code: str, username: str, password: str, display_name: str | None):
    """Create a department desk account (signs in at /console/ and sees only this department's data)."""
    from sqlalchemy.exc import IntegrityError

    from app.auth.service import create_department_user as create

    try:
        create(code, username, password, display_name)
        db.session.commit()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"username {username} is already taken") from None
    click.echo(f"created department user {username} ({code})")


@keys_cli.command("rotate-pii")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="rows per transaction")
def rotate_pii_command(chunk_size: int):
    """Re-encrypt every ID number, phone and partner key under the current PII_KEY (PII_KEY_VERSION); values
    under a key listed in PII_KEYS_PREVIOUS, or written before key versions, are rewritten. Safe to re-run."""
    from app.security.pii import vault
    from app.security.rotation import rotate_pii

    def progress(stats):
        click.echo(f"  {stats.rows} values read, {stats.rewritten} rewritten", err=True)

    stats = rotate_pii(chunk_size, on_chunk=progress)
    click.echo(f"key version {vault().current}: {stats.rows} values read, {stats.rewritten} rewritten, "
               f"{stats.changed_meanwhile} changed meanwhile (run again to cover them)")


@keys_cli.command("rotate")
@click.option("--start", is_flag=True, help="publish the next key now (it takes over after the publish-ahead time)")
@click.option("--now", "switch_now", is_flag=True,
              help="switch to the next (or a fresh) key at once; the old key still verifies what it signed")
@click.option("--compromised", is_flag=True,
              help="a leaked key: switch at once and drop the old key from the JWKS (what it signed stops verifying)")
def rotate_keys_command(start: bool, switch_now: bool, compromised: bool):
    """Rotate the signing key of credit codes, attestations and status lists within their validity windows;
    without options, one scheduled step (safe to run daily: it publishes the next key when due)."""
    from app.security.key_windows import rotate
    from app.security.signing import keyring

    step = rotate(keyring(), start=start, now=switch_now, compromised=compromised)
    click.echo(step.message)
    for key in sorted(keyring().keys(), key=lambda k: k.not_before or k.created_at):
        click.echo(f"  {key.kid}\t{key.state}\tnbf {_epoch(key.not_before or key.created_at)}\t"
                   f"exp {_epoch(key.not_after) if key.not_after else '-'}")


def _epoch(value: float) -> str:
    from app.security.signing import epoch_to_datetime

    return epoch_to_datetime(value).isoformat(timespec="seconds")


def register(app: Flask) -> None:
    from app.community.cli import community_cli
    from app.demo.cli import demo_cli
    from app.rights.cli import calendar_cli, rights_cli
    from app.rights.commitments_cli import commitments_cli
    from app.scheduler.cli import scheduler_cli

    for group in (records_cli, scores_cli, audit_cli, staff_cli, departments_cli, keys_cli, citizens_cli, demo_cli,
                  scheduler_cli, calendar_cli, rights_cli, commitments_cli, community_cli):
        app.cli.add_command(group)
