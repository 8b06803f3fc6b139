"""API clients of the test world: a court's case system (acts as its clerk) and a partner organisation's system
(acts as its admin), each with a token."""

from __future__ import annotations

from dataclasses import dataclass

from api.models import ApiClient, Scope
from api.services import api_client_create, api_token_issue


@dataclass
class Caller:
    client: ApiClient
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_caller(*, organisation, user, scopes: list[str] | None = None, name: str = "") -> Caller:
    client = api_client_create(name=name or f"{organisation.name}系统", organisation=organisation, acting_user=user,
                               scopes=list(Scope.values) if scopes is None else scopes, actor=None)
    token, _row = api_token_issue(client=client, actor=None)
    return Caller(client=client, token=token)


def referral_body(*, organisation: int | None = None, **overrides) -> dict:
    body = {
        "origin": "court_filed", "dispute_type": "labour", "title": "劳动报酬纠纷", "claims": "支付拖欠工资 12,000 元",
        "amount": "12000.00", "referral_number": "京0101委托1号", "organisation": organisation,
        "court_case_number": "（2026）京0101民初808号", "procedure": "ordinary",
        "parties": [
            {"role": "applicant", "name": "张三", "phone": "13900000001"},
            {"role": "respondent", "name": "某公司", "phone": "13900000002", "kind": "entity"},
        ],
    }
    body.update(overrides)
    return body
