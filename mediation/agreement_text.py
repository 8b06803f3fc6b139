"""How an agreement reads: a clause's canonical content and hash, its wording, amounts in capitals, and the
frozen snapshot the renderer prints (legal-rules §C1). Pure functions, no writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from mediation.choices import ClauseKind
from mediation.models import Agreement, AgreementClause, Party

# The fields a party assents to. The clause number is left out on purpose: moving a clause does not change
# what it says, so it keeps its assents; anything that changes the wording or an obligation changes the hash.
CLAUSE_CONTENT_FIELDS = (
    "kind", "obligor", "obligee", "subject", "amount", "method", "place", "deadline", "instalments", "guarantee",
    "breach", "text",
)
HEADER_FIELDS = ("facts", "disputed_matters", "responsibilities", "scope", "unresolved_claims")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, Party):
        return value.pk
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def clause_content(clause: AgreementClause) -> dict[str, Any]:
    """The clause as plain data: party ids, the amount to the fen, the deadline as an ISO date."""
    content: dict[str, Any] = {}
    for name in CLAUSE_CONTENT_FIELDS:
        if name in ("obligor", "obligee"):
            content[name] = getattr(clause, f"{name}_id")
        else:
            content[name] = _canonical_value(getattr(clause, name))
    return content


def clause_sha256(clause: AgreementClause) -> str:
    """SHA-256 of the canonical JSON of the clause content; a party's assent is bound to it."""
    blob = json.dumps(clause_content(clause), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _four_digits(n: int) -> str:
    out, zero = "", False
    for pos in (3, 2, 1, 0):
        digit = n // 10**pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _SMALL_UNITS[pos]
    return out


def rmb_capitals(amount: Decimal) -> str:
    """An amount in 大写 as agreements and receipts write it: ``12000`` → ``壹万贰仟元整``."""
    cents = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if cents < 0:
        raise ValueError("negative amount")
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    groups: list[int] = []
    n = yuan
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, need_zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out += "零"
        out += _four_digits(group) + _BIG_UNITS[index]
        need_zero = False
    if not out and not rest:
        return "零元整"
    if out:
        out += "元"
    if not rest:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif out:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    return out


def chinese_date(day: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _name(party: Party | None) -> str:
    return party.name if party is not None else ""


def clause_text(clause: AgreementClause) -> str:
    """The wording printed for the clause: the mediator's own text, or one composed from the fields."""
    if clause.text.strip():
        return clause.text.strip()
    obligor, obligee = _name(clause.obligor), _name(clause.obligee)
    head = obligor
    if clause.deadline:
        head += _("于%(date)s前") % {"date": chinese_date(clause.deadline)}
    if clause.method:
        head += _("以%(method)s方式") % {"method": clause.method}
    if obligee:
        head += _("向%(who)s") % {"who": obligee}
    if clause.kind == ClauseKind.PAYMENT:
        head += _("支付%(subject)s") % {"subject": clause.subject}
        if clause.amount is not None:
            head += _("人民币%(amount)s元（大写：%(caps)s）") % {
                "amount": f"{clause.amount:,.2f}", "caps": rmb_capitals(clause.amount),
            }
    else:
        head += clause.subject
    sentences = [head.rstrip("。") + "。"] if head else []
    for label, value in (
        (_("履行地点"), clause.place), (_("分期履行"), clause.instalments), (_("担保"), clause.guarantee),
        (_("违约责任"), clause.breach),
    ):
        if value.strip():
            sentences.append(_("%(label)s：%(value)s") % {"label": label, "value": value.strip().rstrip("。")} + "。")
    return "".join(sentences)


def agreement_snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement as the renderer prints it and the audit trail fingerprints it (clauses in order)."""
    clauses = sorted(agreement.clauses.all(), key=lambda c: c.number)
    data: dict[str, Any] = {
        "agreement": agreement.pk, "case": agreement.case_id, "version": agreement.version,
        "revision": agreement.revision, "number": agreement.number, "variant": agreement.variant,
        **{name: getattr(agreement, name) for name in HEADER_FIELDS},
        "clauses": [
            {
                "number": c.number, **clause_content(c), "obligor_name": _name(c.obligor),
                "obligee_name": _name(c.obligee), "wording": clause_text(c), "sha256": c.content_sha256,
            }
            for c in clauses
        ],
    }
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    data["sha256"] = hashlib.sha256(blob.encode("utf-8")).hexdigest()
    return data
