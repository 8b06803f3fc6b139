"""Build the pre-subset print font (documents/fonts.py) into PRINT_FONT_PATH (default var/fonts/)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from documents.fonts import SOURCE, build_subset, font_path


class Command(BaseCommand):
    help = "生成文书打印用的常用字子集字体（Noto Serif CJK SC，约 7,800 字），渲染时优先使用，缺字回退完整字体。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-missing", action="store_true", help="已存在时不重建")

    def handle(self, *args: Any, **options: Any) -> None:
        target = font_path()
        if options["if_missing"] and target.is_file():
            self.stdout.write(f"已存在：{target}")
            return
        if not SOURCE.is_file():
            raise CommandError(f"找不到 {SOURCE}（Debian 软件包 fonts-noto-cjk）。")
        started = time.monotonic()
        build_subset(target)
        self.stdout.write(f"已生成 {target}（{target.stat().st_size // 1024} KB，{time.monotonic() - started:.0f} 秒）")
