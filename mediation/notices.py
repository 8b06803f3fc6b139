"""The standard notice and consent texts (Chinese), published as versioned NoticeText rows.

Changing a body here publishes a new version the next time ``seed_notices`` runs; consents already
given keep pointing at the version their giver saw.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StandardText:
    code: str
    title: str
    body: str


ONLINE_MEDIATION_NOTICE = StandardText(
    code="omr7.online_mediation",
    title="在线调解告知书",
    body=(
        "一、在线调解是指依托人民法院调解平台，通过音视频等方式开展的调解活动，与线下调解具有同等效力。\n"
        "二、在线调解具有便捷、高效、低成本的优势，您可以通过手机参加，无需安装软件。\n"
        "三、您有权自愿选择是否参加在线调解，有权申请更换调解员或要求调解员回避，有权随时终止调解。\n"
        "四、您应当如实陈述，遵守调解秩序，不得恶意串通、虚构事实或伪造证据进行虚假调解，"
        "否则将依法承担相应的法律责任。\n"
        "五、调解过程中为达成调解协议所作妥协而认可的事实，除双方共同确认的无争议事实外，"
        "不得在其后的诉讼程序中作为对您不利的根据。\n"
        "六、调解达成协议的，双方可以在调解协议生效之日起三十日内共同向人民法院申请司法确认。\n"
        "（依据：《人民法院在线调解规则》第四条、第七条、第十八条）"
    ),
)

ONLINE_MEDIATION_CONSENT = StandardText(
    code="omr4.consent",
    title="在线调解同意书",
    body="本人已阅读《在线调解告知书》，知悉在线调解的方式、权利义务及法律后果，同意通过人民法院调解平台进行在线调解。",
)

E_SERVICE_CONSENT = StandardText(
    code="olr29.e_service",
    title="电子送达同意书",
    body=(
        "本人同意人民法院及调解组织通过本人确认的手机号码、电子邮箱及本平台向本人送达调解相关文书。"
        "文书到达本人确认的电子地址即视为送达。本人可以申请提供纸质文书，亦可在各阶段撤回本同意。"
        "（依据：《人民法院在线诉讼规则》第二十九条至第三十一条）"
    ),
)

SHAM_MEDIATION_WARNING = StandardText(
    code="omr17.sham_warning",
    title="虚假调解法律后果告知",
    body=(
        "当事人之间恶意串通，企图通过调解方式侵害国家利益、社会公共利益或者他人合法权益的，"
        "人民法院将依法驳回其请求，并根据情节轻重予以罚款、拘留；构成犯罪的，依法追究刑事责任。"
        "（依据：《中华人民共和国民事诉讼法》第一百一十五条、《人民法院在线调解规则》第十七条）"
    ),
)

# The §C6 notices printed on a 送达地址确认书.
SERVICE_ADDRESS_NOTICE = StandardText(
    code="c6.service_address",
    title="送达地址确认书告知事项",
    body=(
        "一、您确认的送达地址适用于您勾选的各个阶段（调解、司法确认、诉讼、执行）。"
        "送达地址需要变更的，应当及时书面告知人民法院或调解组织。\n"
        "二、因您提供或者确认的送达地址不准确、送达地址变更后未及时告知，或者您及您指定的代收人拒不签收，"
        "导致文书未能被实际接收的，文书退回之日视为送达之日。\n"
        "三、您同意电子送达的，文书到达您确认的电子地址（手机号码、电子邮箱、即时通讯账号或本平台账户）"
        "即视为送达。\n"
        "四、对判决书、裁定书、调解书，您可以要求提供纸质文书。\n"
        "五、您可以申请对送达地址予以保密。\n"
        "（依据：《中华人民共和国民事诉讼法》第九十条，《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》"
        "第一百三十六条，《人民法院在线诉讼规则》第二十九条至第三十一条，《人民法院在线调解规则》第十七条）"
    ),
)

# Shown before each session (SIM 14; OMR 17-18; OLR 7, 27): every participant acknowledges it per room. The
# agreement's effect and what may follow it differ by who mediates and the court's referral (legal-rules §A11 item
# 2), so the notice has one version for each agreement variant (``session_notice_for``).
_SESSION_HEAD = (
    "一、权利：您有权自愿参加调解，有权申请调解员回避，有权自主表达意愿、提出调解方案，有权随时要求终止调解；"
    "调解员可以在必要时与各方分别沟通（背对背），背对背沟通的内容未经您同意不向对方公开。\n"
    "二、义务：您应当如实陈述，遵守调解秩序，尊重对方当事人和调解员；不得录制、截屏或传播调解过程的音视频。\n"
    "三、规则和程序：调解员核验身份并作告知后开始调解；调解过程形成电子调解笔录，笔录经各方在线核对确认，"
    "与纸质笔录具有同等效力；为达成调解协议所作妥协而认可的事实，除共同确认的无争议事实外，"
    "不得在其后的诉讼中作为对您不利的根据。\n"
)
_SESSION_TAIL = (
    "六、录音录像：只有在场的每一个人都同意时，调解员才能对调解过程录音录像；背对背沟通只有在场各人都同意时才录制。"
    "任何人撤回同意，或未同意的人进入时，录制立即停止；录制时页面显示“录制中”。录音录像仅供在场人员和人民法院查看；"
    "未经双方当事人明确同意，录音录像不代替调解笔录。\n"
    "（依据：《最高人民法院关于人民法院特邀调解的规定》第十四条，《人民法院在线调解规则》第十七条、第十八条、"
    "第二十二条，《人民法院在线诉讼规则》第七条、第二十七条%(extra)s）"
)
_CONFIRMATION = (
    "五、申请司法确认：调解协议生效之日起三十日内，双方当事人可以共同向人民法院申请司法确认；"
    "经确认有效的，一方拒绝履行时，对方可以向人民法院申请强制执行。\n"
)

# 特邀调解 before filing (委派, or a party's own application): effective when every party has e-signed (OMR 19).
SESSION_NOTICE = StandardText(
    code="sim14.session",
    title="调解活动告知书",
    body=(
        _SESSION_HEAD
        + "四、调解协议的效力：达成调解协议的，调解协议自各方当事人均完成电子签章之时起发生法律效力，"
        "当事人应当按照约定自觉履行。\n"
        + _CONFIRMATION
        + _SESSION_TAIL % {"extra": ""}
    ),
)

# A people's mediation committee (PML 29): the parties' signatures, the mediator's and the committee's seal.
SESSION_NOTICE_PEOPLES = StandardText(
    code="sim14.session.peoples",
    title="调解活动告知书（人民调解）",
    body=(
        _SESSION_HEAD
        + "四、调解协议的效力：达成调解协议的，调解协议自各方当事人签名、盖章或者按指印，人民调解员签名"
        "并加盖人民调解委员会印章之日起生效，具有法律约束力，当事人应当按照约定履行。\n"
        + _CONFIRMATION
        + _SESSION_TAIL % {"extra": "，《中华人民共和国人民调解法》第二十九条、第三十一条、第三十三条"}
    ),
)

# 委托 after filing (OMR 20 para 2; SIM 20): the agreement goes to the court, which reviews it and issues a 调解书
# (effective when the parties sign for it) or rules on a withdrawal; no judicial confirmation.
SESSION_NOTICE_ENTRUSTED = StandardText(
    code="sim14.session.entrusted",
    title="调解活动告知书（委托调解）",
    body=(
        _SESSION_HEAD
        + "四、调解协议的效力：本案系人民法院立案后委托调解。达成调解协议的，调解员将调解协议提交人民法院，"
        "由人民法院依法审查后制作调解书，调解书经双方当事人签收后即具有法律效力；当事人也可以申请撤诉。\n"
        "五、调解不成的，人民法院依法恢复审理。\n"
        + _SESSION_TAIL % {"extra": "，《最高人民法院关于人民法院特邀调解的规定》第二十条"}
    ),
)

# The party's answer to the caucus question (OMR 16; CMed 5), asked on the way into a room.
CAUCUS_CONSENT = StandardText(
    code="omr16.caucus_consent",
    title="背对背调解同意书",
    body=(
        "本人同意调解员在必要时与各方当事人分别沟通（背对背调解）。背对背沟通期间，另一方在等候区等候，"
        "不能看到或听到本方与调解员的沟通内容；本方在背对背时的陈述和笔录未经本方同意不向对方公开。"
        "（依据：《人民法院在线调解规则》第十六条，《最高人民法院关于人民法院民事调解工作若干问题的规定》第五条）"
    ),
)

# The party's answer to invited participants (interpreters, helpers) taking part (PML 20; SIM 17).
INVITED_PARTICIPANT_CONSENT = StandardText(
    code="pml20.invited_participant",
    title="邀请其他人员参与调解同意书",
    body=(
        "本人同意调解员邀请的翻译人员、协助调解人员参加本次调解。上述人员应当遵守调解纪律并对调解内容保密。"
        "（依据：《中华人民共和国人民调解法》第二十条，《最高人民法院关于人民法院特邀调解的规定》第十七条）"
    ),
)

# The interpreter's declaration (如实翻译的保证), accepted on the way into the room before an interpreter may
# enter (issue 18 item 4; by analogy with CPL 47, which applies recusal to interpreters; PML 20). The documents
# name the interpreter with it only when it was accepted.
INTERPRETER_DECLARATION = StandardText(
    code="i18.interpreter_declaration",
    title="翻译人员如实翻译保证书",
    body=(
        "本人受调解员邀请，为本案当事人提供翻译。本人保证：如实、完整地翻译各方的陈述和调解员的说明，"
        "不歪曲、不遗漏、不添加；不代替当事人作出意思表示，不对调解协议表示同意或签名；"
        "对调解中知悉的内容保密；与本案当事人有利害关系的，主动向调解员说明。"
        "如有虚假翻译，愿承担相应的法律责任。"
        "（参照：《中华人民共和国民事诉讼法》第四十七条关于翻译人员回避的规定，《中华人民共和国人民调解法》第二十条）"
    ),
)

# A party's consent to the court entrusting its filed lawsuit to mediation (legal-rules §A12 art. 2), asked on
# the party's phone before the mediator receives the materials.
COURT_ENTRUSTMENT_CONSENT = StandardText(
    code="a12.court_entrustment",
    title="立案后委托调解同意书",
    body=(
        "一、人民法院已对本案登记立案。经您同意，人民法院可以在案件进入审理程序前委托调解员或调解组织进行调解。\n"
        "二、调解期限自调解员签字接收人民法院移送的材料之日起计算：适用普通程序的为十五日，适用简易程序的为七日。"
        "经双方当事人同意，可以延长一次，延长期限为三十日，延长的期限不计入审理期限。\n"
        "三、调解达成协议的，原告可以撤回起诉，或者义务即时履行后由人民法院以其他方式结案；"
        "您明确要求出具法律文书的，由人民法院依法出具民事调解书。\n"
        "四、调解不成，或者期限届满一方不同意继续调解的，案件转入审理程序；"
        "转入审理前人民法院将通知交纳案件受理费，未按期交纳的，按撤诉处理。\n"
        "五、您可以不同意委托调解，不同意不影响案件依法审理。\n"
        "本人已阅读上述内容，同意人民法院将本案委托调解。"
        "（依据：《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》第二条至第六条）"
    ),
)

# A party's consent to the single 30-day extension of a court-filed mediation (§A12 art. 3).
COURT_FILED_EXTENSION_CONSENT = StandardText(
    code="a12.extension",
    title="延长委托调解期限同意书",
    body=(
        "本人同意将本案委托调解期限延长三十日。延长只能一次，延长的期限不计入审理期限；"
        "延长期限届满仍未达成调解协议的，案件转入审理程序。"
        "（依据：《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》第三条）"
    ),
)

# Asked in the room before anyone is recorded (issue 14 item 2): every person present answers it and may withdraw
# at any time (OMR 22; PIPL 13, 14, 15, 26 for audio and video of identifiable people, legal-rules §A11.9).
RECORDING_NOTICE = StandardText(
    code="a11.recording",
    title="录音录像告知",
    body=(
        "一、经在场每一个人同意，调解员可以对本次调解（共同调解）录音录像；背对背沟通只有在场各人都同意时才录制。"
        "您可以不同意，不同意不影响调解进行。\n"
        "二、您可以随时撤回同意。有人撤回同意，或者未同意的人进入正在录制的调解时，录制立即停止。录制时页面显示“录制中”。\n"
        "三、录音录像由平台的媒体服务器录制，每人一个文件并合成一个文件，各计算SHA-256校验值并记入审计记录；"
        "文件保存在平台的非公开存储中，仅供录制时在场的人员和受理法院的法官查看，用于核对调解过程。\n"
        "四、录音录像不代替调解笔录：只有双方当事人明确同意以录音录像代替笔录时才可代替，"
        "且双方无争议的事实仍须以书面方式确认。\n"
        "（依据：《人民法院在线调解规则》第二十二条，《中华人民共和国个人信息保护法》第十三条、第十四条、第十五条）"
    ),
)

# The room's rules and the participant's declaration, accepted on the pre-join self-test of every session
# (issue 14 item 1). Each acceptance is a NoticeAcknowledgement of this version and is noted on the SelfTest row.
ROOM_RULES = StandardText(
    code="i14.room_rules",
    title="调解室规则和参加人声明",
    body=(
        "一、请在安静、不受打扰的地方参加，调解期间不要同时处理其他事务；他人在场的，应当告知调解员。\n"
        "二、请按调解员的安排依次发言，不打断他人；调解员请您静音时请配合。\n"
        "三、参加人不得自行录制、截屏或传播调解过程的音视频和文字内容（平台录音录像须经在场各人同意，另行告知）。\n"
        "四、网络中断时，重新打开链接即可回到调解室；无法恢复的，调解员可以改期或改用电话联系。\n"
        "本人声明：本人是受邀参加本次调解的本人（或其代理人、受邀人员），已完成设备和网络自检，"
        "将遵守上述规则，并如实陈述。"
    ),
)

STANDARD_TEXTS = (
    ONLINE_MEDIATION_NOTICE,
    ONLINE_MEDIATION_CONSENT,
    E_SERVICE_CONSENT,
    SHAM_MEDIATION_WARNING,
    SERVICE_ADDRESS_NOTICE,
    SESSION_NOTICE,
    SESSION_NOTICE_PEOPLES,
    SESSION_NOTICE_ENTRUSTED,
    CAUCUS_CONSENT,
    INVITED_PARTICIPANT_CONSENT,
    COURT_ENTRUSTMENT_CONSENT,
    COURT_FILED_EXTENSION_CONSENT,
    RECORDING_NOTICE,
    ROOM_RULES,
)

