"""Demo data: a trading centre with one person for every role, so that a newcomer can click through.

Every demo user shares :data:`DEMO_PASSWORD`, printed by ``bidding seed-demo`` and ``make run``; never seed a
production database. The credit codes are made up, with valid check characters.
"""

from __future__ import annotations

from bidding.accounts import service
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.db import Database
from bidding.identity import PLATFORM, OrganisationKind, Role
from bidding.settings import Language

DEMO_PASSWORD = "demo-password"  # noqa: S105  # published on purpose: demo data only

#: (key, kind, name, English name, credit code)
ORGANISATIONS = [
    (
        "centre",
        OrganisationKind.PLATFORM,
        "示范市公共资源交易中心",
        "Demo City Public Resource Trading Centre",
        "113205000141005804",
    ),
    (
        "agency",
        OrganisationKind.AGENCY,
        "示范市明诚招标代理有限公司",
        "Mingcheng Tendering Agency Co., Ltd.",
        "91320594MA1X2H6B9N",
    ),
    (
        "hospital",
        OrganisationKind.PURCHASER,
        "示范市第一人民医院",
        "Demo City First People's Hospital",
        "123205004662837263",
    ),
    (
        "huajian",
        OrganisationKind.BIDDER,
        "华建工程集团有限公司",
        "Huajian Engineering Group Co., Ltd.",
        "91320505MA1MXK7U5E",
    ),
    (
        "qiming",
        OrganisationKind.BIDDER,
        "启明信息技术股份有限公司",
        "Qiming Information Technology Co., Ltd.",
        "91320506MA20R8DN48",
    ),
    (
        "lvyuan",
        OrganisationKind.BIDDER,
        "绿源环境科技有限公司",
        "Lvyuan Environmental Technology Co., Ltd.",
        "91320583MA1NQ6C375",
    ),
]
REGION = "示范市"

#: (login, name, roles, organisation key or None, language)
USERS: list[tuple[str, str, list[Role], str | None, Language]] = [
    ("admin", "周敏", [Role.ADMIN], "centre", "zh-CN"),
    ("supervisor1", "陈立", [Role.SUPERVISOR], "centre", "zh-CN"),
    ("supervisor2", "Helen Zhao", [Role.SUPERVISOR], "centre", "en"),
    ("agent", "李娜", [Role.AGENCY_STAFF], "agency", "zh-CN"),
    ("purchaser", "王强", [Role.AGENCY_STAFF], "hospital", "zh-CN"),
    ("custodian1", "刘洋", [Role.CUSTODIAN], "agency", "zh-CN"),
    ("custodian2", "孙悦", [Role.CUSTODIAN], "hospital", "zh-CN"),
    ("custodian3", "郑凯", [Role.CUSTODIAN], "centre", "zh-CN"),
    ("expert1", "杨志远", [Role.EXPERT], None, "zh-CN"),
    ("expert2", "黄静", [Role.EXPERT], None, "zh-CN"),
    ("expert3", "吴建华", [Role.EXPERT], None, "zh-CN"),
    ("expert4", "徐丽", [Role.EXPERT], None, "zh-CN"),
    ("expert5", "David Lin", [Role.EXPERT], None, "en"),
    ("bidder1", "赵刚", [Role.BIDDER], "huajian", "zh-CN"),
    ("bidder2", "钱芳", [Role.BIDDER], "qiming", "zh-CN"),
    ("bidder3", "Grace Sun", [Role.BIDDER], "lvyuan", "en"),
]


async def seed(database: Database) -> str:
    """Add the demo organisations and users unless they are there; return the sign-in table to print."""
    centre_code = ORGANISATIONS[0][4]
    if await service.find_organisation(database, centre_code) is None:
        ids = {}
        for key, kind, name, name_en, credit_code in ORGANISATIONS:
            created = await service.create_organisation(
                database, PLATFORM, NewOrganisation(kind, name, REGION, credit_code, name_en)
            )
            ids[key] = created.id
        for login, display_name, roles, organisation, language in USERS:
            await service.create_user(
                database,
                PLATFORM,
                NewUser(
                    login,
                    display_name,
                    DEMO_PASSWORD,
                    roles,
                    ids[organisation] if organisation else None,
                    language,
                ),
            )
    return sign_in_table()


def sign_in_table() -> str:
    names = {key: name_en for key, _, _, name_en, _ in ORGANISATIONS}
    lines = [f"Demo sign-ins (every password is {DEMO_PASSWORD!r}):"]
    for login, _, roles, organisation, _ in USERS:
        where = names[organisation] if organisation else "(independent)"
        lines.append(f"  {login:<12} {', '.join(roles):<14} {where}")
    return "\n".join(lines)
