"""What a court will object to in a draft agreement, found while the mediator is still typing.

Warnings point at matters a court will not confirm (Interp 355: personal status, confirmation of ownership of
property or IP), documents outside electronic signatures (ESL art. 3) and a "sue on breach" clause (CMed 8).
Errors make the agreement unclear in content (Interp 358(5)) and block signing. Pure: reads the agreement, its
clauses and its case, writes nothing. Keyword checks are a safety net for a busy mediator, not a legal
opinion: they point at the words that triggered them so the mediator can judge.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation.choices import AgreementScope, AgreementVariant, ClauseKind, Sector
from mediation.models import Agreement, AgreementClause

WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True)
class AgreementWarning:
    """One finding. ``clause`` is the clause number it is about (None: the agreement as a whole)."""

    code: str
    level: str
    message: str
    rule: str
    clause: int | None = None

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


# Interp 355(1)(3): confirming, voiding or dissolving marriage, parent-child or adoption relations.
_STATUS = re.compile(
    r"离婚|解除婚姻|婚姻关系|婚姻无效|撤销婚姻|收养关系|解除收养|亲子关系|确认.{0,6}[父母][子女]关系|身份关系"
)
# Interp 355(1)(5): confirming ownership (确权) of property rights or intellectual property.
_OWNERSHIP = re.compile(
    r"确权|(?:确认|确定).{0,20}(?:所有权|产权|使用权|专利权|商标权|著作权|知识产权|物权|权属)"
    r"|(?:所有权|产权|专利权|商标权|著作权|知识产权|权属)(?:归|属于)|归(?!还)[^，。；\n]{1,20}所有(?:[。，；、]|$)",
    re.MULTILINE,
)
# ESL art. 3(2)(1): marriage, adoption, succession and other personal relations.
_ESL_PERSONAL = re.compile(r"婚姻|离婚|收养|继承|遗产|遗嘱")
# ESL art. 3(2)(2): stopping water, heating, gas or other public utility services.
_ESL_UTILITIES = re.compile(r"停止(?:供水|供电|供热|供气|供暖)|停[水电气暖]")
# CMed 8: a clause letting one side ask the court to judge the case if the other does not perform.
_SUE_ON_BREACH = re.compile(
    r"(?:向|请求|提请|诉至|诉请)(?:人民)?法院.{0,10}(?:起诉|判决|裁判|诉讼)|(?:有权|可以|可)(?:另行)?(?:向(?:人民)?法院)?(?:另行)?(?:提起)?(?:起诉|诉讼)"
    r"|由(?:人民)?法院(?:判决|裁判)"
)

_CLAUSE_TEXT_FIELDS = ("subject", "method", "place", "instalments", "guarantee", "breach", "text")


def _clause_texts(clause: AgreementClause) -> str:
    return "\n".join(getattr(clause, name) for name in _CLAUSE_TEXT_FIELDS)


def _header_texts(agreement: Agreement) -> str:
    return "\n".join((agreement.facts, agreement.disputed_matters, agreement.responsibilities))


def _where(clause: int | None) -> str:
    return _("第%(n)d条") % {"n": clause} if clause is not None else _("协议正文")


def _sep() -> str:
    return pgettext("list separator", "、")


def _scan(pattern: re.Pattern[str], places: Iterable[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    hits = []
    for clause, text in places:
        match = pattern.search(text)
        if match:
            hits.append((clause, match.group(0)))
    return hits


def agreement_warnings(
    agreement: Agreement, clauses: Sequence[AgreementClause] | None = None, *, today: dt.date | None = None
) -> list[AgreementWarning]:
    """Everything a mediator should see about the draft, errors first. Pass ``clauses`` to check unsaved
    ones; by default the agreement's own (prefetched if the caller prefetched them)."""
    if clauses is None:
        clauses = sorted(agreement.clauses.all(), key=lambda c: c.number)
    today = today or timezone.localdate()
    dispute_type = agreement.case.dispute_type
    places: list[tuple[int | None, str]] = [(None, _header_texts(agreement))]
    places += [(c.number, _clause_texts(c)) for c in clauses]
    found: list[AgreementWarning] = []

    # --- Errors: unclear content (Interp 358(5)) and an incomplete partial agreement (OMR 19; §C1)
    if not clauses:
        found.append(AgreementWarning(
            "no_clauses", ERROR, _("协议还没有任何条款，请至少写明一项双方达成的协议内容。"), "OMR 19",
        ))
    for each in clauses:
        found += _clause_errors(each, today)
    if agreement.scope == AgreementScope.PARTIAL and not agreement.unresolved_claims.strip():
        found.append(AgreementWarning(
            "partial_without_unresolved", ERROR,
            _("部分达成协议时，须列明未达成协议的请求事项，以便另行处理。"), "OMR 19; §C1",
        ))

    # --- Warnings: matters a court will not confirm (Interp 355)
    if dispute_type == Sector.FAMILY:
        found.append(AgreementWarning(
            "status_by_type", WARNING,
            _("婚姻家事纠纷：确认、解除婚姻、收养、亲子等身份关系的内容不能申请司法确认；抚养费、财产分割等给付"
              "内容可以。请将身份关系事项移出协议或另行处理。"),
            "民诉法解释第355条第1款第3项",
        ))
    for clause, word in _scan(_STATUS, places):
        found.append(AgreementWarning(
            "personal_status", WARNING,
            _("%(where)s含“%(word)s”：涉及身份关系的确认或解除，法院不予受理司法确认申请。")
            % {"where": _where(clause), "word": word},
            "民诉法解释第355条第1款第3项", clause,
        ))
    if dispute_type == Sector.IP:
        found.append(AgreementWarning(
            "ip_by_type", WARNING,
            _("知识产权纠纷：协议不得确认专利权、商标权、著作权等权属；许可使用费、赔偿等给付内容可以申请司法确认。"),
            "民诉法解释第355条第1款第5项",
        ))
    for clause, word in _scan(_OWNERSHIP, places):
        found.append(AgreementWarning(
            "ownership", WARNING,
            _("%(where)s含“%(word)s”：确认物权或知识产权权属的协议，法院不予受理司法确认申请。可改写为交付、"
              "协助办理登记等履行内容。") % {"where": _where(clause), "word": word},
            "民诉法解释第355条第1款第5项", clause,
        ))

    # --- Warnings: documents outside electronic signatures (ESL art. 3)
    personal = _scan(_ESL_PERSONAL, places)
    if dispute_type == Sector.FAMILY or personal:
        where = _sep().join(dict.fromkeys(_where(c) for c, _w in personal)) or _("纠纷类型")
        found.append(AgreementWarning(
            "esl_personal", WARNING,
            _("%(where)s涉及婚姻、收养、继承等人身关系：此类文书不适用电子签名，请安排当事人线下签署纸质协议。")
            % {"where": where},
            "电子签名法第三条",
        ))
    for clause, word in _scan(_ESL_UTILITIES, places):
        found.append(AgreementWarning(
            "esl_utilities", WARNING,
            _("%(where)s含“%(word)s”：涉及停止供水、供热、供气等公用事业服务的文书不适用电子签名。")
            % {"where": _where(clause), "word": word},
            "电子签名法第三条", clause,
        ))

    # --- Warnings: a "sue on breach" clause (CMed 8); only clauses are scanned, a partial agreement may well
    # say in its header that the unresolved claims can be taken to court.
    for clause, word in _scan(_SUE_ON_BREACH, [(c.number, _clause_texts(c)) for c in clauses]):
        found.append(AgreementWarning(
            "sue_on_breach", WARNING,
            _("%(where)s含“%(word)s”：协议不得约定一方不履行时另一方可请求人民法院对案件作出裁判。可以约定违约金等"
              "不履行协议的责任；协议经司法确认后可申请强制执行。") % {"where": _where(clause), "word": word},
            "民事调解工作若干问题的规定第八条", clause,
        ))

    # --- Warnings: content PML 29 expects in a people's mediation agreement
    if agreement.variant == AgreementVariant.PEOPLES and not agreement.responsibilities.strip():
        found.append(AgreementWarning(
            "peoples_responsibilities", WARNING,
            _("人民调解协议书应载明各方当事人的责任。"), "人民调解法第二十九条",
        ))
    return sorted(found, key=lambda w: (not w.is_error, w.clause or 0))


def _clause_errors(clause: AgreementClause, today: dt.date) -> list[AgreementWarning]:
    found: list[AgreementWarning] = []
    n = clause.number
    if not any(getattr(clause, name).strip() for name in _CLAUSE_TEXT_FIELDS) and clause.amount is None:
        return [AgreementWarning("empty_clause", ERROR, _("第%(n)d条没有内容。") % {"n": n}, "民诉法解释第358条", n)]
    if clause.obligor_id and clause.obligor_id == clause.obligee_id:
        found.append(AgreementWarning(
            "same_party", ERROR, _("第%(n)d条的义务人与权利人是同一当事人。") % {"n": n}, "民诉法解释第358条第5项", n,
        ))
    if clause.kind == ClauseKind.PAYMENT:
        missing = [
            label for label, present in (
                (_("义务人"), clause.obligor_id), (_("权利人"), clause.obligee_id),
                (_("金额"), clause.amount is not None), (_("履行方式"), clause.method.strip()),
                (_("履行期限"), clause.deadline),
            ) if not present
        ]
        if missing:
            found.append(AgreementWarning(
                "payment_incomplete", ERROR,
                _("第%(n)d条（给付金钱）缺少：%(missing)s。给付条款须写明义务人、权利人、金额、履行方式和期限，"
                  "否则内容不明确，法院将驳回司法确认申请。") % {"n": n, "missing": _sep().join(missing)},
                "民诉法解释第358条第5项", n,
            ))
        if clause.amount is not None and clause.amount <= 0:
            found.append(AgreementWarning(
                "payment_amount", ERROR, _("第%(n)d条的金额必须大于零。") % {"n": n}, "民诉法解释第358条第5项", n,
            ))
    elif clause.kind == ClauseKind.PERFORMANCE and not (clause.obligor_id and clause.deadline):
        found.append(AgreementWarning(
            "performance_unclear", WARNING,
            _("第%(n)d条（履行行为）宜写明由谁履行、何时履行完毕，以便执行。") % {"n": n}, "民诉法解释第358条第5项", n,
        ))
    if clause.deadline and clause.deadline < today:
        found.append(AgreementWarning(
            "deadline_past", WARNING, _("第%(n)d条的履行期限早于今天。") % {"n": n}, "民诉法解释第358条第5项", n,
        ))
    return found
