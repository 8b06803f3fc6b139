"""Playback of consented recordings (issue 14 item 2): one permission-checked view that streams a file from
private storage, with byte ranges so a ``<video>`` element can seek. Who may watch is
``mediation.selectors.recordings`` (those who were in the recorded space, the judges of the case's court)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from frontend.http import signed_in_user as _user
from mediation.exceptions import NotFound
from mediation.selectors.recordings import recording_file_for_user
from mediation.services.recording import recording_file_viewed

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """A file read from ``start`` for ``length`` bytes, in blocks (a FileResponse body)."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self.handle = path.open("rb")
        self.handle.seek(start)
        self.left = length

    def __iter__(self):  # type: ignore[no-untyped-def]
        try:
            while self.left > 0:
                block = self.handle.read(min(self.left, 1 << 16))
                if not block:
                    return
                self.left -= len(block)
                yield block
        finally:
            self.handle.close()


@login_required
@require_GET
def recording_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    file = recording_file_for_user(user=_user(request), pk=pk)
    path = Path(settings.MEDIA_ROOT) / file.path
    if not path.is_file():
        raise NotFound(_("录音录像文件不存在。"))
    size = path.stat().st_size
    match = _RANGE.match(request.headers.get("Range", ""))
    start, end = 0, size - 1
    if match and (match[1] or match[2]):
        if match[1]:
            start, end = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
        else:  # the last N bytes
            start = max(size - int(match[2]), 0)
        if start > end:
            answer = HttpResponse(status=416)
            answer["Content-Range"] = f"bytes */{size}"
            return answer
    if start == 0:  # one audit entry per viewing, not per range request
        recording_file_viewed(file=file, actor=_user(request))
    response = FileResponse(_Slice(path, start, end - start + 1), content_type="video/webm",
                            status=206 if match else 200)
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    if match:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
