"""The media servers' configuration is the project's own (``realtime.media_config``, ``manage.py
media_config``): fresh secrets, no Debian default, token auth, APIs on a private address, ICE on a concrete
non-loopback address, only the plugins and transports the rooms use; coturn with REST credentials."""

from __future__ import annotations

import io
import stat

import pytest
from django.core.management import call_command

from realtime import media_config


def janus(**kwargs) -> media_config.JanusConfig:  # type: ignore[no-untyped-def]
    return media_config.JanusConfig(
        **{"admin_secret": "s" * 20, "admin_key": "k" * 20, "ice_address": "10.231.0.1", **kwargs}
    )


def test_janus_files_carry_the_projects_settings_and_no_default(tmp_path):
    files = janus().files(tmp_path)
    core = files["janus.jcfg"]
    assert 'admin_secret = "' + "s" * 20 + '"' in core and "janusoverlord" not in "".join(files.values())
    assert "token_auth = true" in core
    assert 'ice_enforce_list = "10.231.0.1"' in core and "full_trickle = true" in core
    assert "ignore_mdns = true" in core and 'rtp_port_range = "20000-20999"' in core
    disabled = core.split("plugins: {")[1].split("}")[0]
    assert "libjanus_videoroom.so" not in disabled and "libjanus_streaming.so" in disabled
    transports = core.split("transports: {")[1].split("}")[0]
    assert "libjanus_mqtt.so" in transports and "libjanus_websockets.so" not in transports
    assert 'ip = "127.0.0.1"' in files["janus.transport.http.jcfg"]
    assert 'admin_ip = "127.0.0.1"' in files["janus.transport.http.jcfg"]
    assert 'ws_ip = "127.0.0.1"' in files["janus.transport.websockets.jcfg"]
    assert 'admin_key = "' + "k" * 20 + '"' in files["janus.plugin.videoroom.jcfg"]


@pytest.mark.parametrize("address", ["lo", "127.0.0.1", ""])
def test_janus_refuses_a_loopback_ice_address(address):
    with pytest.raises(ValueError, match="non-loopback"):
        janus(ice_address=address)


def test_janus_and_coturn_refuse_to_run_without_secrets():
    with pytest.raises(ValueError, match="admin secret"):
        janus(admin_secret="")
    with pytest.raises(ValueError, match="TURN secret"):
        media_config.CoturnConfig(secret="", relay_ip="10.231.0.1")


def test_the_command_writes_private_files_with_fresh_secrets(tmp_path, settings):
    settings.JANUS_ADMIN_SECRET = settings.JANUS_VIDEOROOM_ADMIN_KEY = settings.ICE_TURN_SECRET = ""
    out = io.StringIO()
    call_command("media_config", "--out", str(tmp_path / "a"), stdout=out)
    call_command("media_config", "--out", str(tmp_path / "b"), stdout=io.StringIO())
    env_a = dict(line.split("=", 1) for line in (tmp_path / "a" / "media.env").read_text().splitlines())
    env_b = dict(line.split("=", 1) for line in (tmp_path / "b" / "media.env").read_text().splitlines())
    for name in ("JANUS_ADMIN_SECRET", "JANUS_VIDEOROOM_ADMIN_KEY", "ICE_TURN_SECRET"):
        assert len(env_a[name]) >= 32 and env_a[name] != env_b[name]
    assert env_a["MEDIA"] == "sfu"
    turn = (tmp_path / "a" / "turnserver.conf").read_text()
    assert "use-auth-secret" in turn and f"static-auth-secret={env_a['ICE_TURN_SECRET']}" in turn
    assert "relay-ip=10.231.0.1" in turn
    a = tmp_path / "a"
    for path in [*(a / "janus").iterdir(), a / "turnserver.conf", a / "media.env"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "generated new secrets" in out.getvalue()


def test_the_command_uses_the_settings_secrets(tmp_path, settings):
    settings.JANUS_ADMIN_SECRET, settings.JANUS_VIDEOROOM_ADMIN_KEY = "a" * 32, "b" * 32
    settings.ICE_TURN_SECRET = "c" * 32
    call_command("media_config", "--out", str(tmp_path), stdout=io.StringIO())
    assert 'admin_secret = "' + "a" * 32 + '"' in (tmp_path / "janus" / "janus.jcfg").read_text()
    assert "static-auth-secret=" + "c" * 32 in (tmp_path / "turnserver.conf").read_text()
