"""The mesh room's WebRTC pairs over the media namespace's veth addresses (10.231.0.0/30), never over this
machine's own interfaces nor loopback: the selected ICE candidate pair of every connection is read from the
browser's getStats(). A page script records each RTCPeerConnection the room creates (Playwright's init
script, outside the page's CSP), so the room's own scripts stay untouched."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.choices import CaseStatus
from mediation.models import RoomMember
from tests.e2e.conftest import off_loop
from tests.e2e.phone_support import new_phone, pass_room_checks, receiving, sign_in
from tests.media_support import in_media_net
from tests.room_support import schedule_session

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

RECORD_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""

SELECTED_PAIRS = """
async () => {
  const out = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    const stats = [...(await pc.getStats()).values()];
    const byId = new Map(stats.map((s) => [s.id, s]));
    for (const t of stats.filter((s) => s.type === "transport" && s.selectedCandidatePairId)) {
      const pair = byId.get(t.selectedCandidatePairId);
      const local = byId.get(pair.localCandidateId), remote = byId.get(pair.remoteCandidateId);
      out.push({local: local.address, remote: remote.address, type: local.candidateType});
    }
  }
  return out;
}
"""


def test_the_mesh_pairs_over_the_namespace_veth_addresses(asgi_live_server, world, browser):
    def setup() -> Any:
        case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
        return schedule_session(world, case)

    session = off_loop(setup)
    base = asgi_live_server.url
    mediator, alice = new_phone(browser), new_phone(browser)
    for page in (mediator, alice):
        page.context.add_init_script(RECORD_CONNECTIONS)
    sign_in(mediator, base, world.mediator.username)
    sign_in(alice, base, world.applicant.username)
    for page, user, party in ((mediator, world.mediator, False), (alice, world.applicant, True)):
        page.goto(f"{base}/sessions/{session.pk}/room/")
        if page.locator("button[name=open]").count():
            page.click("button[name=open]")
        pass_room_checks(page, phone=user.phone, party=party)
    ids = off_loop(lambda: {m.user_id: m.pk for m in RoomMember.objects.filter(room__session=session)})
    a_id, m_id = ids[world.applicant.pk], ids[world.mediator.pk]
    mediator.wait_for_selector(f"#rm-waiting [data-member='{a_id}']")
    # the party's pre-join self-test verdict reaches the mediator's waiting list live (issue 14)
    mediator.wait_for_selector(f"#rm-waiting [data-member='{a_id}'] [data-selftest]:not([data-selftest=''])")
    mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{a_id}']")
    receiving(alice, m_id)
    receiving(mediator, a_id)

    pairs = alice.evaluate(SELECTED_PAIRS) + mediator.evaluate(SELECTED_PAIRS)
    assert pairs, "no connected RTCPeerConnection was recorded"
    for pair in pairs:
        assert in_media_net(pair["local"]) and in_media_net(pair["remote"]), pair
