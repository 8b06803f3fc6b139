"""Human-readable Chinese descriptions of audit events, for timelines a party or judge reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mediation.choices import CaseStatus, ConsentKind, ParticipantRole, RecusalDecision, TimerKind
from mediation.models import AuditEvent

_FIXED = {
    "case.created": _("创建案件"),
    "case.mediator_designated": _("指定调解员"),
    "admin.case_viewed": _("管理后台查看案件"),
    "notice.acknowledged": _("确认已阅读告知"),
    "notice.published": _("发布告知文本"),
    "application.submitted": _("提交调解申请"),
    "application.prepared": _("调解组织代为准备调解申请（待当事人本人确认）"),
    "application.prepared_claimed": _("当事人本人确认代为准备的申请"),
    "application.prepared_declined": _("当事人拒绝代为准备的申请"),
    "service_address.confirmed": _("确认送达地址"),
    "evidence.discarded": _("撤回材料"),
    "mediator.jointly_chosen": _("当事人共同选定调解员"),
    "mediator.disclosed": _("调解员作出披露声明"),
    "recusal.requested": _("申请调解员回避"),
    "respondent.invited": _("短信通知被申请人"),
    "party.linked": _("被申请人登录平台"),
    "materials.returned": _("材料退回法院"),
    "case.referred_to_organisation": _("委派至调解组织"),
    "timer.reminded": _("发送期限到期提醒"),
    "timer.recomputed": _("期限重新计算"),
    "timer.expiry_action_skipped": _("期限届满，未自动处理"),
    "otp.sent": _("发送短信验证码"),
    "otp.verified": _("短信验证码验证通过"),
    "otp.failed": _("短信验证码错误"),
    "otp.locked": _("验证码错误次数过多，手机号码暂时锁定"),
    "identity.verified": _("完成实名认证"),
    "identity.failed": _("实名认证未通过"),
    "user.signed_in_by_phone": _("使用手机验证码登录"),
    "auth.password_failed": _("密码登录未成功"),
    "auth.locked_out": _("密码登录失败次数过多，暂时锁定"),
    "complaint.filed": _("提出投诉"),
    "complaint.decided": _("投诉处理决定"),
    "holiday.set": _("录入节假日调整"),
    "contact.requested": _("提出联系法官/调解员请求"),
    "contact.reached": _("承办人已联系当事人"),
    "contact.answered": _("向当事人反馈联系请求的办理结果"),
    "contact.taken_over": _("负责人接手逾期的联系请求"),
    "contact.escalated": _("联系请求逾期，已报负责人"),
    "contact.feedback_overdue": _("联系请求逾期未反馈结果，已报负责人"),
    "assisted_filing.started": _("代办立案：工作人员登记并核验身份"),
    "assisted_filing.confirmed": _("代办立案：当事人本人确认，已转管辖法院"),
    "assisted_filing.declined": _("代办立案：当事人不同意调解"),
    "application.assisted": _("经其他法院代办提交的申请（当事人已本人确认）"),
    "holiday.deleted": _("删除节假日调整"),
    "mediator.suspended": _("暂停调解员资格"),
    "mediator.reinstated": _("恢复调解员资格"),
    "mediator.removed": _("调解员除名"),
    "referral.created": _("法院委派/委托调解"),
    "referral.consent_obtained": _("法院已征得当事人同意调解"),
    "roster.entry_added": _("列入调解员名册"),
    "roster.adoption_requested": _("申请采用上级法院名册调解员"),
    "roster.adoption_accepted": _("调解员同意被采用"),
    "roster.adoption_refused": _("调解员拒绝被采用"),
    "service_address.changed": _("变更送达地址"),
    "e_service.withdrawn": _("撤回电子送达同意"),
    "notification.sent": _("通知已发送"),
    "notification.failed": _("通知发送失败"),
    "session.scheduled": _("安排调解活动"),
    "session.rescheduled": _("调解活动改期"),
    "session.cancelled": _("取消调解活动"),
    "session.verification_scheduled": _("安排司法确认询问"),
    "filing.handed_over": _("调解不成，材料移送法院立案"),
    "filing.filed": _("法院登记立案"),
    "calendar.feed_created": _("创建日历订阅地址"),
    "calendar.feed_rotated": _("重新生成日历订阅地址"),
    "room.opened": _("开启调解室"),
    "recording.consent_granted": _("同意录音录像"),
    "recording.consent_withdrawn": _("撤回录音录像同意"),
    "recording.started": _("开始录音录像"),
    "recording.stopped": _("停止录音录像"),
    "recording.files": _("录音录像文件生成（含SHA-256）"),
    "recording.failed": _("录音录像未录成"),
    "recording.viewed": _("回放录音录像"),
    "room.member_entered": _("进入调解室等候区"),
    "room.identity_checked": _("参加调解前再次核验身份"),
    "room.notices_acknowledged": _("确认调解活动告知事项"),
    "room.selftest_recorded": _("完成入会前设备和网络自检"),
    "room.rules_accepted": _("接受调解室规则并作出参加人声明"),
    "room.member_admitted": _("调解员准许入会"),
    "room.member_refused": _("调解员拒绝入会"),
    "room.member_removed": _("调解员移出调解室"),
    "room.member_left": _("离开调解室"),
    "room.staff_message": _("工作人员从实时看板向参加人员发送消息"),
    "room.member_place_changed": _("调解室人员身份或所属一方变更，须重新准许入会"),
    "room.mute_requested": _("调解员请求静音"),
    "room.locked": _("锁定调解室"),
    "room.unlocked": _("解除锁定调解室"),
    "room.caucus_started": _("开始背对背调解"),
    "room.caucus_ended": _("结束背对背调解，恢复共同调解"),
    "room.ended": _("结束本次调解"),
    "room.chat_posted": _("在调解室发送消息"),
    "room.file_attached": _("在调解室提交材料"),
    "room.record_added": _("记录调解笔录"),
    "room.helper_followed_party": _("翻译人员或协助人员随其协助的当事人回到等候区"),
    "room.record_confirmed": _("当事人在线确认调解笔录"),
    "room.record_released": _("当事人同意公开背对背笔录"),
    "document.issued": _("生成文书"),
    "document.verified": _("文书核验（上传文件或输入核验码）"),
    "agreement.started": _("开始起草调解协议"),
    "agreement.updated": _("修改调解协议"),
    "agreement.clause_added": _("增加协议条款"),
    "agreement.clause_updated": _("修改协议条款"),
    "agreement.clause_deleted": _("删除协议条款"),
    "agreement.clause_moved": _("调整协议条款顺序"),
    "agreement.clause_assented": _("当事人同意协议条款"),
    "agreement.assent_withdrawn": _("当事人撤回对协议条款的同意"),
    "agreement.frozen": _("调解协议定稿"),
    "agreement.revised": _("调解协议修订为新版本"),
    "mediation_document.sealed": _("民事调解书经审判员签署、加盖本院电子印章并送达"),
    "mediation_document.effective": _("双方当事人均已签收，民事调解书发生法律效力"),
}
_WITH_TITLE = {
    "document.signed": _("电子签章"),
    "document.sign_code_sent": _("发送签署验证码"),
    "document.downloaded": _("下载文书"),
    "document.filed_with_court": _("文书报送法院（备案/申请）"),
    "document.service_pending": _("文书未能电子送达，待另行送达"),
    "document.effective": _("文书生效"),
    "evidence.uploaded": _("上传材料"),
    "document.external_received": _("收到法院系统推送的文书（由法院系统出具）"),
    "document.external_downloaded": _("下载法院系统推送的文书"),
    "evidence.downloaded": _("下载材料"),
    "service.issued": _("电子送达文书"),
    "service.effective": _("送达生效"),
    "service.read": _("受送达人查阅送达文书"),
    "service.downloaded": _("下载送达文书"),
    "service.acknowledged": _("受送达人确认收到"),
    "service.paper_copy_requested": _("申请纸质文书"),
    "confirmation.extension_approved": _("院长批准延长司法确认审查期限"),
    "confirmation.withdrawal_requested": _("当事人申请撤回司法确认申请"),
    "confirmation.inquiry_asked": _("法官提出核实事项"),
    "confirmation.inquiry_answered": _("答复法官的核实事项"),
    "performance.scheduled": _("调解协议生效，生成履行事项"),
    "performance.reminded": _("发送履行期限提醒"),
    "performance.proof_uploaded": _("义务人上传履行凭证"),
    "performance.confirmed": _("权利人确认收到履行"),
}
# What a reported default led to (services.performance.obligation_report_default).
_DEFAULT_OUTCOMES = {
    "contract_only": _("权利人报告未履行（调解协议未经司法确认，可就履行提起诉讼）"),
    "limit_lapsed": _("权利人报告未履行（申请执行期间已届满）"),
    "enforcement_eligible": _("权利人报告未履行，可申请强制执行"),
    "enforcement_added": _("权利人报告未履行，强制执行申请书重新生成"),
    "recorded": _("权利人报告未履行"),
}
# Interpreters and helpers (issue 18 item 4): the label names the role, the person and whom they help.
_HELPER = {
    "helper.invited": _("调解员邀请%(role)s"),
    "helper.withdrawn": _("调解员取消邀请%(role)s"),
    "helper.declaration_accepted": _("%(role)s作出如实翻译的保证"),
}
_TIMER = {
    "timer.started": _("期限开始计算"),
    "timer.paused": _("期限中止"),
    "timer.resumed": _("期限恢复计算"),
    "timer.stopped": _("期限结束"),
    "timer.extended": _("期限延长"),
    "timer.expired": _("期限届满"),
}


def _choice_label(enum: type, value: object) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def audit_event_label(event: AuditEvent) -> str:
    data = event.data or {}
    if event.kind in _FIXED:
        return str(_FIXED[event.kind])
    if event.kind in _WITH_TITLE:
        return _("%(event)s：%(detail)s") % {"event": _WITH_TITLE[event.kind], "detail": data.get("title", "")}
    if event.kind == "mediator.chosen":
        if data.get("defer_to_court"):
            return str(_("当事人选择交由法院指定调解员"))
        return str(_("当事人选择调解员"))
    if event.kind == "recusal.decided":
        granted = data.get("decision") == RecusalDecision.GRANTED
        return str(_("准予回避") if granted else _("驳回回避申请"))
    if event.kind == "performance.default_reported":
        return str(_DEFAULT_OUTCOMES.get(data.get("outcome", ""), _DEFAULT_OUTCOMES["recorded"]))
    if event.kind in _HELPER:
        what = _HELPER[event.kind] % {"role": _choice_label(ParticipantRole, data.get("role"))}
        detail = data.get("name", "") + (f"（{data['service']}）" if data.get("service") else "")
        return _("%(event)s：%(detail)s") % {"event": what, "detail": detail}
    if event.kind in _TIMER:
        detail = _choice_label(TimerKind, data.get("kind"))
        return _("%(event)s：%(detail)s") % {"event": _TIMER[event.kind], "detail": detail}
    if event.kind in ("consent.granted", "consent.refused"):
        verb = _("同意") if event.kind == "consent.granted" else _("不同意")
        return _("%(event)s：%(detail)s") % {"event": verb, "detail": _choice_label(ConsentKind, data.get("consent"))}
    if event.kind.startswith("case.") and "to" in data:
        return _("状态变更为：%(status)s") % {"status": _choice_label(CaseStatus, data["to"])}
    return event.kind
