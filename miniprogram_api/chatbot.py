"""The official account's message callback (/wechat/callback): WeChat's server check and its messages."""

import json
from pathlib import Path

import click
from flask import Response, current_app, request
from flask_smorest import Blueprint

from miniprogram_api import bot, demo, wechat

blp = Blueprint("chatbot", __name__, url_prefix="/wechat", description="公众号消息回调", cli_group="wechat")


@blp.record_once
def _resolve_secrets(state) -> None:
    wechat.ensure_oa_secrets(state.app)


@blp.route("/callback", methods=["GET"])
@blp.doc(summary="微信服务器配置校验：签名正确时原样返回 echostr")
def verify():
    return Response(bot.echo(request.args), mimetype="text/plain")


@blp.route("/callback", methods=["POST"])
@blp.doc(summary="接收公众号消息（明文或安全模式），被动回复")
def receive():
    # Read at most one byte past the limit: an oversized body is refused without being held in memory.
    body = request.stream.read(bot.max_body() + 1)
    text, mimetype = bot.handle(request.args, body)
    return Response(text, mimetype=mimetype)


@blp.cli.command("say")
@click.argument("text")
@click.option("--as", "code", default="demo-alice", show_default=True,
              help="the mini-program login code of the follower (the same code is the same WeChat user)")
@click.option("--url", "base_url", default=None, help="the running service (default: base_url of the demo)")
@click.option("--plain", is_flag=True, help="plaintext mode instead of secure (AES) mode")
def say(text: str, code: str, base_url: str | None, plain: bool):
    """Send TEXT to the official account's callback as WeChat would, and print the reply."""
    if base_url is None:
        path = Path(current_app.instance_path) / demo.CREDENTIALS_FILE
        base_url = json.loads(path.read_text(encoding="utf-8"))["base_url"] if path.exists() \
            else "http://127.0.0.1:5000"
    click.echo(demo.say(text, code, base_url, plain))


@blp.cli.command("openid")
@click.argument("code")
def openid(code: str):
    """The official-account openid of the follower who logs in to the mini-program with CODE (stand-in only)."""
    click.echo(demo.official_openid(code))
