"""``flask benefits …``: signing keys of the credit code, and the default scenes."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app


def register_commands(group: click.Group) -> None:
    @group.command("keys")
    def list_keys():
        """List the signing keys (kid, state, until when a previous key still verifies)."""
        from app.security.signing import keyring

        for key in sorted(keyring().keys(), key=lambda k: k.created_at):
            until = (datetime.fromtimestamp(key.not_after, UTC).isoformat(timespec="seconds")
                     if key.not_after else "-")
            click.echo(f"{key.kid}\t{key.state}\tverifies until: {until}")

    @group.command("prepare-key")
    def prepare_key():
        """Publish the next signing key in the JWKS ahead of the rotation (offline scanners cache the JWKS)."""
        from app.security.signing import keyring

        key = keyring().prepare_next()
        click.echo(f"next key {key.kid} is published; it takes over by itself at its not-before "
                   f"({datetime.fromtimestamp(key.not_before, UTC).isoformat(timespec='seconds')}), or at rotate-key")

    @group.command("rotate-key")
    @click.option("--keep-previous-for", type=int, default=None,
                  help="seconds the old key still verifies (default: the credit code's lifetime + 60 s; "
                       "0 after a key leak)")
    def rotate_key(keep_previous_for: int | None):
        """Sign new codes with a new key; codes signed with the old key keep verifying until they expire."""
        from app.security.signing import keyring

        if keep_previous_for is None:
            # The previous key must outlive everything it signed: credit codes and partner attestations alike.
            keep_previous_for = max(current_app.config["CREDIT_CODE_TTL_SECONDS"],
                                    current_app.config["PARTNER_ATTESTATION_TTL_SECONDS"]) + 60
        key = keyring().rotate(keep_previous_for)
        click.echo(f"current key is now {key.kid}; the previous key verifies for {keep_previous_for} s more")

    @group.command("ensure-scenes")
    def ensure_scenes():
        """Restore any of the 13 default 信易+ scenes that are missing."""
        from benefits.catalog import ensure_default_scenes

        click.echo(f"added {ensure_default_scenes()} scene(s)")
