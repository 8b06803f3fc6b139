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

STANDARD_TEXTS = (
    ONLINE_MEDIATION_NOTICE,
    ONLINE_MEDIATION_CONSENT,
    E_SERVICE_CONSENT,
    SHAM_MEDIATION_WARNING,
    SERVICE_ADDRESS_NOTICE,
)
