"""Enumerations shared by models, the transition table and the UI. Labels are Chinese first."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    COURT = "court", _("人民法院")
    PEOPLES_MEDIATION_COMMITTEE = "pmc", _("人民调解委员会")
    INVITED_ORGANISATION = "invited", _("特邀调解组织")
    PARTNER = "partner", _("总对总合作单位")


class CourtLevel(models.TextChoices):
    SUPREME = "spc", _("最高人民法院")
    HIGH = "high", _("高级人民法院")
    INTERMEDIATE = "intermediate", _("中级人民法院")
    BASIC = "basic", _("基层人民法院")
    TRIBUNAL = "tribunal", _("人民法庭")


# Lower number = higher in the hierarchy; a court's parent must rank strictly above it.
COURT_RANK = {
    CourtLevel.SUPREME: 0,
    CourtLevel.HIGH: 1,
    CourtLevel.INTERMEDIATE: 2,
    CourtLevel.BASIC: 3,
    CourtLevel.TRIBUNAL: 4,
}


class Sector(models.TextChoices):
    """The 总对总 partner sectors and specialised rosters (OMR 28)."""

    LABOUR = "labour", _("劳动争议")
    FINANCE = "finance", _("金融")
    IP = "ip", _("知识产权")
    SECURITIES = "securities", _("证券期货")
    COMMERCIAL = "commercial", _("商事")
    OVERSEAS_CHINESE = "overseas_chinese", _("涉侨")
    FAMILY = "family", _("婚姻家事")
    TRAFFIC = "traffic", _("道路交通")
    MARITIME = "maritime", _("海事海商")
    INSURANCE = "insurance", _("保险")
    HK_MACAU_TAIWAN = "hmt", _("涉港澳台")
    PROPERTY = "property", _("物业")
    CONSUMER = "consumer", _("消费")
    MEDICAL = "medical", _("医疗")
    CONSTRUCTION = "construction", _("建设工程")
    NEIGHBOURHOOD = "neighbourhood", _("邻里纠纷")
    CONTRACT = "contract", _("合同纠纷")
    OTHER = "other", _("其他")


class Role(models.TextChoices):
    """Roles held through an organisation membership. Party and agent are per case (Party, Agent)."""

    MEDIATOR = "mediator", _("调解员")
    ORG_ADMIN = "org_admin", _("调解组织管理员")
    CLERK = "clerk", _("立案/诉讼服务人员")
    JUDGE = "judge", _("法官")
    COURT_PRESIDENT = "president", _("院长")
    COMPLAINT_HANDLER = "complaints", _("投诉处理人员")


class MediatorKind(models.TextChoices):
    INVITED = "invited", _("特邀调解员")
    STAFF = "staff", _("专职调解员")
    PART_TIME = "part_time", _("兼职调解员")
    PEOPLES = "peoples", _("人民调解员")
    JUDGE = "judge", _("法官调解")


class MediatorStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    SUSPENDED = "suspended", _("暂停")
    REMOVED = "removed", _("除名")


class RosterScope(models.TextChoices):
    COURT = "court", _("本院名册")
    REGIONAL = "regional", _("区域性名册")
    NATIONAL = "national", _("全国性名册")
    SPECIALTY = "specialty", _("专业名册")


class Nationality(models.TextChoices):
    MAINLAND = "mainland", _("中国内地")
    HONG_KONG = "hk", _("香港")
    MACAU = "macau", _("澳门")
    TAIWAN = "taiwan", _("台湾")
    FOREIGN = "foreign", _("外国")


class CaseOrigin(models.TextChoices):
    PARTY_APPLICATION = "application", _("当事人申请")
    DELEGATED = "delegated", _("诉前委派调解")
    ENTRUSTED = "entrusted", _("诉中委托调解")
    # Since 2025-01-01 (legal-rules §A12, §B13): the court files the suit (民初 number), then entrusts it with
    # the parties' consent; the period runs from the mediator's signed receipt of the materials.
    COURT_FILED = "court_filed", _("立案后委托调解")


class Procedure(models.TextChoices):
    """For 委托 (post-filing) mediation: decides the 15- or 7-day period (OMR 24)."""

    NONE = "", _("不适用")
    ORDINARY = "ordinary", _("普通程序")
    SIMPLE = "simple", _("简易程序")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    AWAITING_SELECTION = "awaiting_selection", _("待选定调解员")
    ASSIGNED = "assigned", _("已指定调解员")
    ACCEPTED = "accepted", _("调解员已接受")
    RESPONDENT_PENDING = "respondent_pending", _("征询被申请人意愿")
    SCHEDULING = "scheduling", _("安排调解")
    IN_MEDIATION = "in_mediation", _("调解中")
    APPRAISAL_PAUSED = "appraisal_paused", _("鉴定评估中（期限中止）")
    SUSPENDED = "suspended", _("中止（疑似虚假调解）")
    AGREEMENT_DRAFT = "agreement_draft", _("调解协议起草中")
    SIGNING = "signing", _("调解协议签署中")
    AGREEMENT_EFFECTIVE = "agreement_effective", _("调解协议已生效")
    CLOSED_SETTLED = "closed_settled", _("调解成功结案")
    WITHDRAWN = "withdrawn", _("当事人自行和解撤回")
    TERMINATED = "terminated", _("调解终结")
    REFER_TO_FILING = "refer_to_filing", _("转入立案")
    CLOSED_UNRESOLVED = "closed_unresolved", _("调解不成结案")
    COURT_MUST_FILE = "court_must_file", _("法院依法立案")
    RESUME_TRIAL = "resume_trial", _("恢复审理")
    JC_SUBMITTED = "jc_submitted", _("司法确认已申请")
    JC_SUPPLEMENT_REQUESTED = "jc_supplement", _("司法确认补正材料")
    JC_NOT_ACCEPTED = "jc_not_accepted", _("司法确认不予受理")
    JC_UNDER_REVIEW = "jc_under_review", _("司法确认审查中")
    JC_WITHDRAWN = "jc_withdrawn", _("司法确认申请撤回")
    JC_CONFIRMED = "jc_confirmed", _("裁定调解协议有效")
    JC_DISMISSED = "jc_dismissed", _("裁定驳回申请")
    OBJECTION_WINDOW = "objection_window", _("异议期")
    PERFORMANCE_TRACKING = "performance", _("履行跟踪")
    CLOSED_PERFORMED = "closed_performed", _("履行完毕")
    ENFORCEMENT_ELIGIBLE = "enforcement", _("可申请强制执行")
    # Court-filed mediation's own outcomes (legal-rules §A12 arts. 4-6, §B13).
    CLOSED_OTHER_MEANS = "closed_other_means", _("以其他方式结案（撤诉或即时履行）")
    MEDIATION_DOCUMENT_REQUESTED = "mdoc_requested", _("已申请出具民事调解书（待法官审查）")
    FEE_PENDING = "fee_pending", _("转入审理：待交纳案件受理费")
    DEEMED_WITHDRAWN = "deemed_withdrawn", _("未按期交纳案件受理费，按撤诉处理")


class EndReason(models.TextChoices):
    """Exactly the eight grounds on which online mediation ends (OMR 25)."""

    AGREEMENT_REACHED = "agreement", _("当事人达成调解协议")  # (1)
    SETTLED_AND_WITHDRAWN = "withdrawn", _("当事人自行和解，撤回调解申请")  # (2)
    UNREACHABLE = "unreachable", _("在期限内无法联系到当事人")  # (3)
    REFUSED_TO_CONTINUE = "refused", _("当事人明确表示不愿意继续调解")  # (4)
    POSITIONS_TOO_FAR = "too_far", _("当事人分歧较大且难以达成调解协议")  # (5)
    PERIOD_EXPIRED = "expired", _("调解期限届满，未达成调解协议且各方未达成延长调解期限的合意")  # (6)
    REFUSED_TO_SIGN = "refused_to_sign", _("当事人拒绝在调解协议上签章")  # (7)
    OTHER = "other", _("其他导致调解无法进行的情形")  # (8)


class FilingRoute(models.TextChoices):
    """How a failed pre-filing mediation reaches the court's filing (OMR 21(1)-(2))."""

    ONLINE_FILING = "online_filing", _("当事人选择在线立案")  # OMR 21(1): a party's own application
    COURT_MUST_FILE = "court_must_file", _("委派调解不成，人民法院依法立案")  # OMR 21(2)


class ReturnReason(models.TextChoices):
    """Grounds on which a court returns a pre-filing application (OMR 9), each with its guidance."""

    OUTSIDE_JURISDICTION = "outside_jurisdiction", _("不属于人民法院受案范围")
    MEDIATOR_COURT_LACKS_JURISDICTION = "mediator_court", _("所选调解员的邀请法院无管辖权")
    UNSUITABLE_ONLINE = "unsuitable_online", _("不适宜在线调解")


RETURN_GUIDANCE = {
    ReturnReason.OUTSIDE_JURISDICTION: _(
        "本纠纷不属于人民法院受案范围，请通过其他途径解决，例如向有关行政机关、仲裁机构或人民调解组织申请。"
    ),
    ReturnReason.MEDIATOR_COURT_LACKS_JURISDICTION: _(
        "您选择的调解员由对本案无管辖权的法院邀请，请重新选择有管辖权法院确认的调解员或调解组织。"
    ),
    ReturnReason.UNSUITABLE_ONLINE: _("本纠纷不适宜在线调解，请携带材料到人民法院诉讼服务大厅现场办理。"),
}


class OtherMeansClosure(models.TextChoices):
    """How a court-filed case settled without a court document: the court records it and closes the case
    "by other means" (legal-rules §A12 art. 4)."""

    WITHDRAWAL = "withdrawal", _("原告撤回起诉")
    PERFORMED = "performed", _("义务已即时履行")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")


class PartyKind(models.TextChoices):
    NATURAL = "natural", _("自然人")
    ENTITY = "entity", _("法人或其他组织")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HMT_PERMIT = "hmt_permit", _("港澳台居民居住证/通行证")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")


class AgentKind(models.TextChoices):
    LAWYER = "lawyer", _("律师")
    LEGAL_WORKER = "legal_worker", _("基层法律服务工作者")
    RELATIVE = "relative", _("近亲属")
    EMPLOYEE = "employee", _("工作人员")
    RECOMMENDED = "recommended", _("社区、单位或有关社会团体推荐的公民")


class HelperKind(models.TextChoices):
    """What a helper linked to a party does (issue 18 item 4; PML 20). The first three are interpreters
    (翻译人员), who give the 如实翻译 declaration before entering; the others help without translating."""

    INTERPRETATION = "interpretation", _("口译")
    SIGN_LANGUAGE = "sign_language", _("手语翻译")
    FOREIGN_LANGUAGE = "foreign_language", _("外语翻译")
    FAMILY = "family", _("家属陪同协助")
    INVITED = "invited", _("特邀人员（人民调解法第二十条）")


INTERPRETER_KINDS = frozenset({HelperKind.INTERPRETATION, HelperKind.SIGN_LANGUAGE, HelperKind.FOREIGN_LANGUAGE})


class AgentAuthority(models.TextChoices):
    GENERAL = "general", _("一般授权")
    SPECIAL = "special", _("特别授权")


class ConsentKind(models.TextChoices):
    ONLINE_MEDIATION = "online_mediation", _("同意在线调解")  # OMR 4
    ONLINE_PARTICIPATION = "online_participation", _("同意在线参与本阶段")  # OLR 4
    E_SERVICE = "e_service", _("同意电子送达")  # OLR 29-30
    RECORDING = "recording", _("同意录音录像")
    RECORDING_REPLACES_TRANSCRIPT = "recording_replaces_transcript", _("同意以录音录像代替电子笔录")  # OMR 22
    SEPARATE_SESSIONS = "separate_sessions", _("同意分别调解/背对背调解")  # OMR 16, OLR 20
    INVITED_PARTICIPANT = "invited_participant", _("同意邀请其他人员参与")  # PML 20
    EXTENSION = "extension", _("同意延长调解期限")  # OMR 24
    CONTINUE_AFTER_DISCLOSURE = "continue_after_disclosure", _("知悉披露事项后同意继续调解")  # OMR 13
    BIOMETRIC = "biometric", _("同意处理人脸等生物识别信息")  # PIPL 29
    PUBLIC_MEDIATION = "public_mediation", _("同意公开调解")  # PML 23
    COURT_ENTRUSTMENT = "court_entrustment", _("同意立案后委托调解")  # legal-rules §A12 art. 2


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    SMS = "sms", _("短信")
    IN_PERSON = "in_person", _("现场")
    PAPER = "paper", _("纸质")
    VIDEO = "video", _("视频")


class TimerKind(models.TextChoices):
    SELECTION_WINDOW = "selection_window", _("当事人共同选择调解员（2个工作日）")  # T1
    COURT_DESIGNATION = "court_designation", _("法院指定调解员（3个工作日）")  # T2
    MEDIATOR_ACCEPTANCE = "mediator_acceptance", _("调解员确认接受（3个工作日）")  # T3
    RESPONDENT_CONTACT = "respondent_contact", _("协助征询被申请人意愿（3个工作日）")  # T4
    MEDIATION_PERIOD = "mediation_period", _("调解期限")  # T5-T7
    JC_APPLICATION_WINDOW = "jc_window", _("申请司法确认期限（30日）")  # T9
    JC_ACCEPTANCE = "jc_acceptance", _("司法确认受理审查（3日）")  # T10
    JC_SUPPLEMENT = "jc_supplement", _("司法确认补正材料期限")  # T11
    JC_DECISION = "jc_decision", _("司法确认审查期限（15日）")  # T12
    JC_CEILING = "jc_ceiling", _("特别程序审结期限（30日）")  # T12 ceiling, CPL 187
    JC_OBJECTION = "jc_objection", _("当事人对确认裁定提出异议期限（15日）")  # T13
    COURT_FILED_PERIOD = "court_filed_period", _("立案后委托调解期限（普通程序15日/简易程序7日）")  # §A12 art. 3
    FILING_FEE = "filing_fee", _("交纳案件受理费期限")  # §A12 art. 6
    CONTACT_FIRST = "contact_first", _("联系法官/调解员：首次联系（1个工作日）")  # issue 18
    CONTACT_FEEDBACK = "contact_feedback", _("联系法官/调解员：结果反馈（2个工作日）")  # issue 18


class TimerUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    CALENDAR_DAYS = "days", _("日")


class TimerStatus(models.TextChoices):
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("已中止")
    FIRED = "fired", _("已届满")
    STOPPED = "stopped", _("已结束")


class OtpPurpose(models.TextChoices):
    LOGIN = "login", _("登录")
    IDENTITY = "identity", _("实名认证")
    SESSION_JOIN = "session_join", _("参加调解身份核验")
    SIGNING = "signing", _("签名确认")


class EvidenceKind(models.TextChoices):
    EVIDENCE = "evidence", _("证据材料")
    COMPLAINT = "complaint", _("起诉/申请材料")
    IDENTITY = "identity", _("身份证明")
    AUTHORITY = "authority", _("授权委托书")
    OTHER = "other", _("其他材料")
    PAYMENT_PROOF = "payment", _("履行凭证")


class ServiceStage(models.TextChoices):
    MEDIATION = "mediation", _("调解")
    CONFIRMATION = "confirmation", _("司法确认")
    LITIGATION = "litigation", _("诉讼")
    ENFORCEMENT = "enforcement", _("执行")


class ComplaintGround(models.TextChoices):
    """What a party may complain of (OMR 29; SIM 28)."""

    COERCION = "coercion", _("强迫调解")
    REFUSED_REFERRALS = "refused_referrals", _("无正当理由多次拒绝接受人民法院委派委托")
    GIFTS = "gifts", _("接受当事人请托或收受财物")
    LEAK = "leak", _("泄露调解过程、调解协议内容或国家秘密、商业秘密、个人隐私")
    OTHER = "other", _("其他违反调解职业道德的行为")


class ComplaintStatus(models.TextChoices):
    FILED = "filed", _("已受理")
    UPHELD = "upheld", _("查证属实")
    DISMISSED = "dismissed", _("查证不实")


class ComplaintOutcome(models.TextChoices):
    NONE = "", _("无")
    WARNING = "warning", _("警告")
    CIRCULAR = "circular", _("通报")
    SUSPENSION = "suspension", _("暂停调解资格")
    REMOVAL = "removal", _("除名")


class RecusalDecision(models.TextChoices):
    PENDING = "", _("待决定")
    GRANTED = "granted", _("准予回避")
    REFUSED = "refused", _("驳回申请")


class SessionKind(models.TextChoices):
    """How a session is held (OMR 16)."""

    JOINT_ONLINE = "joint_online", _("同时在线调解")
    SEPARATE_SLOTS = "separate_slots", _("分别指定时间在线调解")
    HYBRID = "hybrid", _("线上线下结合")
    IN_PERSON = "in_person", _("现场调解")


class SessionPurpose(models.TextChoices):
    """What a session is for: mediation, or the court's joint verification of a confirmation application
    (Interp 356: the judge hears both parties together, online allowed by OLR 3(3))."""

    MEDIATION = "mediation", _("调解")
    VERIFICATION = "verification", _("司法确认询问")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    CANCELLED = "cancelled", _("已取消")
    HELD = "held", _("已举行")


class AttendanceMode(models.TextChoices):
    ONLINE = "online", _("在线参加")
    VENUE = "venue", _("到指定场所在线参加")
    IN_PERSON = "in_person", _("现场参加")


class ParticipantRole(models.TextChoices):
    MEDIATOR = "mediator", _("调解员")
    PARTY = "party", _("当事人")
    AGENT = "agent", _("委托代理人")
    INTERPRETER = "interpreter", _("翻译人员")
    HELPER = "helper", _("协助调解人员")
    JUDGE = "judge", _("法官")  # presides a verification session (Interp 356)
    JUDGE_GUIDE = "judge_guide", _("法官（指导）")  # joins a mediation at the mediator's request, guides only


class MessageChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    IN_APP = "in_app", _("站内消息")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class ServiceChannel(models.TextChoices):
    PLATFORM = "platform", _("平台账户")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    IM = "im", _("即时通讯")


class AddressSource(models.TextChoices):
    """Where the address used came from: decides the OLR 31 rule."""

    CONFIRMED = "confirmed", _("受送达人提供或确认的地址")
    OTHER = "other", _("能够确认为受送达人本人的其他地址")


class ServiceRule(models.TextChoices):
    """Which paragraph of OLR 31 made the service effective."""

    ARRIVAL = "olr31_1", _("到达受送达人特定系统（第三十一条第一款）")
    REPLY = "olr31_2_1", _("受送达人回复或作出相应行为（第三十一条第二款第一项）")
    READ = "olr31_2_2", _("系统显示已阅知，推定送达（第三十一条第二款第二项）")


# --- Rooms (issue 5) ---------------------------------------------------------------------------


class RoomStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    ENDED = "ended", _("已结束")


class RoomMemberState(models.TextChoices):
    """Where one person stands in a room: the waiting room until the mediator admits them."""

    WAITING = "waiting", _("等候中")
    ADMITTED = "admitted", _("已入会")
    REFUSED = "refused", _("已拒绝入会")
    REMOVED = "removed", _("已移出")
    LEFT = "left", _("已离开")


class RoomOutcome(models.TextChoices):
    """How a session ends (issue 5 §3)."""

    CONTINUE = "continue", _("另行确定时间继续调解")
    AGREEMENT = "agreement", _("达成调解协议")
    TERMINATE = "terminate", _("终结调解")
    QUESTIONED = "questioned", _("询问结束")  # a verification session (Interp 356): nothing more is decided here


class GuidanceStatus(models.TextChoices):
    """A mediator's request for the referring court's live guidance."""

    OPEN = "open", _("待法院响应")
    CLOSED = "closed", _("已结束")


class RecordTag(models.TextChoices):
    """What a record entry is, for OMR 18 and 22."""

    NONE = "", _("一般记录")
    UNDISPUTED_FACT = "undisputed_fact", _("无争议事实")
    SETTLEMENT_COMMUNICATION = "settlement", _("为达成调解协议的妥协（不得作为不利证据）")


# --- Agreements and documents (issue 6) --------------------------------------------------------


class AgreementStatus(models.TextChoices):
    DRAFTING = "drafting", _("起草中")
    FROZEN = "frozen", _("已定稿")
    SUPERSEDED = "superseded", _("已被新版本取代")


class AgreementVariant(models.TextChoices):
    """Which template: people's mediation (PML 29), court 委派 (pre-filing) or 委托 (post-filing)."""

    PEOPLES = "peoples", _("人民调解协议书")
    DELEGATED = "delegated", _("调解协议书（委派调解）")
    ENTRUSTED = "entrusted", _("调解协议书（委托调解）")


class AgreementScope(models.TextChoices):
    FULL = "full", _("全部达成协议")
    PARTIAL = "partial", _("部分达成协议")


class ClauseKind(models.TextChoices):
    PAYMENT = "payment", _("给付金钱")
    PERFORMANCE = "performance", _("履行行为")
    GUARANTEE = "guarantee", _("担保")
    BREACH = "breach", _("违约责任")
    COSTS = "costs", _("费用负担")
    OTHER = "other", _("其他")


class DocumentKind(models.TextChoices):
    AGREEMENT = "agreement", _("调解协议书")
    TRANSCRIPT = "transcript", _("调解笔录")
    JC_APPLICATION = "jc_application", _("司法确认申请书")
    PRESIDING_PROOF = "presiding_proof", _("调解组织主持调解的证明")
    FAILURE_REPORT = "failure_report", _("调解终结报告")
    RULING = "ruling", _("民事裁定书")  # judicial confirmation's rulings (legal-rules §C4)
    ENFORCEMENT_APPLICATION = "enforcement", _("强制执行申请书")
    FEE_NOTICE = "fee_notice", _("交纳案件受理费通知书")
    MEDIATION_DOCUMENT = "mediation_doc", _("民事调解书")  # the court's, on a party's request (§A12 art. 4; §C5)


class SignerRole(models.TextChoices):
    PARTY = "party", _("当事人")
    AGENT = "agent", _("委托代理人（特别授权）")
    MEDIATOR = "mediator", _("调解员")
    ORGANISATION = "organisation", _("调解组织电子印章")
    JUDGE = "judge", _("审判员")
    COURT = "court", _("人民法院电子印章")


class NotAcceptGround(models.TextChoices):
    """Interp 355 (1)-(5): why a confirmation application is not accepted (or, found later, dismissed)."""

    NOT_COURT_MATTER = "not_court_matter", _("不属于人民法院受理范围")
    NO_JURISDICTION = "no_jurisdiction", _("不属于收到申请的人民法院管辖")
    PERSONAL_STATUS = "personal_status", _("涉及身份关系的确认、解除或效力")
    SPECIAL_PROCEDURE = "special_procedure", _("涉及适用其他特别程序、公示催告程序、破产程序审理")
    OWNERSHIP = "ownership", _("调解协议内容涉及物权、知识产权确权")
    # Not among Interp 355's five, but CPL 205 allows an application only within 30 days.
    LATE = "late", _("超过调解协议生效之日起三十日的申请期限")


class DismissalGround(models.TextChoices):
    """Interp 358 (1)-(6), and Interp 355 grounds found after acceptance: why a confirmation is refused."""

    MANDATORY_LAW = "mandatory_law", _("违反法律强制性规定")
    HARMS_OTHERS = "harms_others", _("损害国家利益、社会公共利益、他人合法权益")
    PUBLIC_ORDER = "public_order", _("违背公序良俗")
    NOT_VOLUNTARY = "not_voluntary", _("违反自愿原则")
    UNCLEAR = "unclear", _("内容不明确")
    OTHER = "other", _("其他不能进行司法确认的情形")
    EXCLUDED_MATTER = "excluded_matter", _("受理后发现有不予受理情形（民诉法解释第三百五十五条）")


class InquiryKind(models.TextChoices):
    """What a judge reviewing a confirmation application may ask, leaving the status as it is."""

    ORG_VERIFY = "org_verify", _("向调解组织核实")  # legal-rules §B8
    SHAM_EVIDENCE = "sham_evidence", _("要求当事人提供证据（涉嫌虚假调解）")  # OMR 23; Interp 358(4)


class ConfirmationOutcome(models.TextChoices):
    """How a confirmation application ended (the 民事裁定书 variants of legal-rules §C4)."""

    CONFIRMED = "confirmed", _("裁定调解协议有效")
    DISMISSED = "dismissed", _("裁定驳回申请")
    NOT_ACCEPTED = "not_accepted", _("裁定不予受理")
    WITHDRAWN = "withdrawn", _("准许撤回申请")
    DEEMED_WITHDRAWN = "deemed_withdrawn", _("按撤回申请处理")


class ObligationStatus(models.TextChoices):
    """Where one obligation of an effective agreement stands (PML 31). "Overdue" is not stored: it is an open
    obligation whose due date has passed, read against today's date."""

    OPEN = "open", _("待履行")
    PROOF_SUBMITTED = "proof_submitted", _("义务人已上传履行凭证，待权利人确认")
    PERFORMED = "performed", _("权利人已确认履行")
    DEFAULTED = "defaulted", _("权利人报告未履行")


class ContactCategory(models.TextChoices):
    """What a party asks when they ask to be contacted (the ledger's 诉求类别)."""

    PROGRESS = "progress", _("询问案件进展")
    SCHEDULE = "schedule", _("调解/开庭时间")
    MATERIALS = "materials", _("提交或补充材料")
    PERFORMANCE = "performance", _("履行与执行")
    CONDUCT = "conduct", _("对办案人员的意见")
    OTHER = "other", _("其他事项")


class ContactStatus(models.TextChoices):
    OPEN = "open", _("待联系")
    ESCALATED = "escalated", _("已逾期，已报负责人")
    CONTACTED = "contacted", _("已联系，待反馈结果")
    ANSWERED = "answered", _("已反馈结果")


class ContactHandler(models.TextChoices):
    """Who a contact request is routed to (D41)."""

    MEDIATOR = "mediator", _("本案调解员")
    JUDGES = "judges", _("本院法官")
    SUPERVISOR = "supervisor", _("监督部门（重复诉求）")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    IN_PERSON = "in_person", _("当面")
    MESSAGE = "message", _("站内消息/短信")


class AssistedFilingKind(models.TextChoices):
    APPLICATION = "application", _("调解申请")
    LAWSUIT = "lawsuit", _("起诉（先行调解）")


class AssistedFilingStatus(models.TextChoices):
    AWAITING_PARTY = "awaiting_party", _("待当事人本人确认")
    CONFIRMED = "confirmed", _("当事人已确认，已转管辖法院")
    DECLINED = "declined", _("当事人未确认")


class SelfTestVerdict(models.TextChoices):
    """The one plain verdict of the pre-join self-test (issue 14): what the person should do."""

    GOOD = "good", _("视频良好")
    AUDIO_ONLY = "audio_only", _("建议仅用语音")
    TOO_WEAK = "too_weak", _("网络太弱（换个位置或网络）")


class LivePresence(models.TextChoices):
    """Where one participant stands in the staff's live view (issue 14 item 3): from the room member's state
    and whether a socket holds their place."""

    NOT_JOINED = "not_joined", _("未进入")
    WAITING = "waiting", _("等候中")
    IN = "in", _("在会中")
    RECONNECTING = "reconnecting", _("正在重连")
    LEFT = "left", _("已离开")


class ConnectionQuality(models.TextChoices):
    """A participant's own connection as their room client rates it (room/quality.js, decision D43)."""

    GOOD = "good", _("良好")
    FAIR = "fair", _("一般")
    POOR = "poor", _("较差")
    LOST = "lost", _("已断开")
    NONE = "none", _("未测得")


class RecordingStatus(models.TextChoices):
    """A recording of one space of a room (issue 14 item 2)."""

    RECORDING = "recording", _("录制中")
    PROCESSING = "processing", _("正在生成文件")
    READY = "ready", _("已生成")
    FAILED = "failed", _("未录成")


class RecordingStopReason(models.TextChoices):
    MEDIATOR = "mediator", _("主持人停止录制")
    WITHDRAWN = "withdrawn", _("有人撤回录音录像同意")
    JOINER = "joiner", _("未同意录音录像的人员进入")
    SPACE_CHANGED = "space_changed", _("共同调解与背对背切换")
    ROOM_ENDED = "room_ended", _("调解活动结束")
    MEDIA_ERROR = "media_error", _("媒体服务器未能录制")


class RecordingFileKind(models.TextChoices):
    PARTICIPANT = "participant", _("单人音视频")
    COMBINED = "combined", _("合成音视频")
