"""`fedledger channel create --legacy`: read the organisation files and the admin's identity,
sign, send, and keep the genesis block (the steps live in channelconfig/creation.py)."""

from __future__ import annotations

from pathlib import Path

from fedledger.profile import ConnectionProfile


def next_steps(
    channel: str, as_org: str, members: list[str], block: Path, update_out: Path | None
) -> str:
    """What `create --legacy` tells the user it did and what comes next. Raises nothing."""
    if update_out is not None:
        return (
            f"wrote the creation of {channel} signed by {as_org} to {update_out}; next: other "
            f"admins run `fedledger channel sign-update {update_out}`, then one runs this "
            f"command with --update {update_out}"
        )
    return (
        f"created channel {channel} ({', '.join(members)}); its genesis block: {block}; next: "
        f"each organisation joins its peers (`peer channel join -b {block}`)"
    )


def create_legacy(
    profile: ConnectionProfile,
    as_org: str,
    org_files: list[Path],
    channel: str,
    consortium: str,
    update_file: Path | None,
    block_out: Path,
    timeout: float,
    update_out: Path | None = None,
) -> list[str]:
    """Create `channel` and write its genesis block to `block_out`; the members' MSP IDs. With
    `update_out`, only write the update signed by `as_org`'s admin there, for other admins.

    Raises OrgFileError for an unreadable organisation file, ChannelConfigError (UpdateFileError,
    UpdateRefusedError, BroadcastError) when the update is wrong, unsigned or refused, and
    ProfileError when the profile lacks the organisation.
    """
    from fabric_protos.common.common_pb2 import SignatureHeader

    from fedledger.channelconfig import envelopes
    from fedledger.channelconfig.creation import create_channel, creation_update
    from fedledger.channelconfig.errors import UpdateFileError
    from fedledger.channelconfig.ledger import orderer_of
    from fedledger.fabric.identity import SigningIdentity
    from fedledger.orgs.export import read_org_file

    orgs = [read_org_file(path) for path in org_files]
    org = profile.org(as_org)
    admin = SigningIdentity.from_msp_folder(org.identity("admin"), org.msp_id)
    if update_file is None:
        envelope = envelopes.unsigned_update(creation_update(channel, consortium, orgs))
    else:
        envelope, update = envelopes.read_update_file(update_file)
        if update.channel_id != channel:
            raise UpdateFileError(
                f"{update_file} creates channel {update.channel_id!r}, not {channel!r}: "
                f"add --channel {update.channel_id}"
            )
    signed = [SignatureHeader.FromString(s.signature_header).creator for s in envelope.signatures]
    if admin.creator not in signed:
        envelope = envelopes.sign_update(envelope, admin)
    if update_out is not None:
        envelopes.write_update_file(update_out, envelope)
        return sorted(o.msp_id for o in orgs)
    block = create_channel(orderer_of(profile), envelope, orgs, admin, timeout)
    block_out.parent.mkdir(parents=True, exist_ok=True)
    block_out.write_bytes(block.SerializeToString())
    return sorted(o.msp_id for o in orgs)
