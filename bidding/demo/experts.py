"""The demo's expert pool and committees: sixty experts across the specialties and the city's districts, three of
them suspended, four with declared conflicts with the demo bidders, two away on the days after seeding; the opened
works tender's committee drawn, accepted and declared, ready to evaluate; and the opened goods tender's committee
drawn, its invitations awaiting the experts' answers.

Plain data (:func:`pool`) and the use cases people's pages call: an administrator adds the experts and suspends
some, each expert declares its own conflicts and days away, the agent requests a draw, the supervisor commits to
and reveals its secret, and the experts answer. Two shortcuts, said where they are made: the pool's extra people
are given one password hash, made once; and the goods committee's supervisor secret is chosen so that expert1 is
called.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Literal
from zoneinfo import ZoneInfo

from bidding.accounts import model as accounts_model
from bidding.accounts import passwords
from bidding.accounts import repo as accounts_repo
from bidding.accounts import service as accounts
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.errors import NotFound
from bidding.experts import draws, model, repo, service
from bidding.experts.model import (
    ConflictInput,
    Declarations,
    DrawRequest,
    NewExpert,
    ProfileInput,
    QuotaInput,
    Relation,
    Status,
    StatusChange,
)
from bidding.identity import PLATFORM, Actor, Role
from bidding.settings import Settings
from bidding.tenders.model import Specialty
from crypto import draw as drawing
from crypto import draw_record

#: Who keeps the pool, and who contributes the supervisor's secret to the demo draws.
ADMIN = "admin"
SUPERVISOR = "supervisor1"
#: Reserves drawn per quota: two, so that a decline or a recusal is covered without a supplementary draw.
RESERVES = 2
#: The demo experts made by :data:`bidding.demo.seed.USERS`; the rest of the pool is made here.
NAMED = ("expert1", "expert2", "expert3", "expert4", "expert5")
#: The pool's size.
POOL_SIZE = 60


@dataclasses.dataclass(frozen=True, slots=True)
class DemoExpert:
    """One expert of the demo pool: the person (made here unless among :data:`NAMED`) and its profile."""

    login: str
    name: str
    name_en: str | None
    specialties: tuple[str, ...]
    region: str
    title: str
    years: int
    #: The employer's name, for one outside the demo's organisations (no credit code on record).
    employer: str | None = None
    #: The key of a demo organisation the expert works for (name and credit code on record).
    works_for: str | None = None


#: (surname, its pinyin) and (given name, its pinyin): the generated people's names, in Chinese and in English.
_SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("赵", "Zhao"), ("周", "Zhou"),
    ("吴", "Wu"), ("孙", "Sun"), ("胡", "Hu"), ("朱", "Zhu"), ("高", "Gao"), ("林", "Lin"), ("何", "He"),
    ("郭", "Guo"), ("马", "Ma"), ("罗", "Luo"), ("梁", "Liang"), ("宋", "Song"), ("谢", "Xie"), ("韩", "Han"),
    ("唐", "Tang"), ("冯", "Feng"), ("董", "Dong"), ("程", "Cheng"), ("曹", "Cao"), ("袁", "Yuan"), ("邓", "Deng"),
    ("傅", "Fu"), ("沈", "Shen"), ("曾", "Zeng"), ("彭", "Peng"), ("蒋", "Jiang"), ("蔡", "Cai"), ("贾", "Jia"),
    ("丁", "Ding"), ("魏", "Wei"),
)  # fmt: skip
_GIVEN_NAMES = (
    ("建国", "Jianguo"), ("志强", "Zhiqiang"), ("海燕", "Haiyan"), ("晓东", "Xiaodong"), ("文博", "Wenbo"),
    ("丽华", "Lihua"), ("国栋", "Guodong"), ("雪梅", "Xuemei"), ("明辉", "Minghui"), ("秀英", "Xiuying"),
    ("振宇", "Zhenyu"), ("慧敏", "Huimin"), ("永刚", "Yonggang"), ("春燕", "Chunyan"), ("德明", "Deming"),
    ("佳怡", "Jiayi"), ("立新", "Lixin"), ("红霞", "Hongxia"), ("宏伟", "Hongwei"), ("静怡", "Jingyi"),
    ("伟", "Wei"), ("芳", "Fang"), ("军", "Jun"), ("敏", "Min"), ("磊", "Lei"), ("洁", "Jie"), ("涛", "Tao"),
    ("琳", "Lin"), ("斌", "Bin"), ("颖", "Ying"), ("学军", "Xuejun"),
)  # fmt: skip

#: The districts experts live in, in turn; none is the purchasers' own region (示范市), which a draw leaves out.
_DISTRICTS = ("示范市高新区", "示范市滨江区", "示范市老城区", "示范市东湖区", "示范市临湖县")
#: Experts living in the city proper, the demo purchasers' region, whom the demo draws leave out.
_IN_PURCHASER_REGION = frozenset({"expert15", "expert47", "expert54"})

#: The groups of the generated experts, in login order from expert06: specialties held, how many, their titles,
#: their employers (in turn). With the named five and the exclusions below, the works tender's quotas (A02 4
#: seats, A08 3) and the goods tender's (B01 5, B09 2) each find three eligible experts per seat and the reserves:
#: A02 17 held, 13 eligible; A08 12, 10; B01 20, 16; B09 9, 9.
_GROUPS: tuple[tuple[tuple[str, ...], int, tuple[str, ...], tuple[str | None, ...]], ...] = (
    (
        ("A02",),
        16,
        ("高级工程师", "教授级高级工程师"),
        ("示范市市政工程设计研究院有限公司", None, "示范大学土木工程学院", "示范市路桥建设管理中心"),
    ),
    (("A08", "B09"), 5, ("高级工程师", "高级经济师"), ("示范市诚信工程造价咨询有限公司", None)),
    (("A08",), 6, ("高级工程师", "高级经济师"), (None, "示范市建设工程造价管理站")),
    (
        ("B01",),
        18,
        ("主任医师", "副主任医师", "高级工程师"),
        ("示范市第二人民医院", "示范市中医院", None, "示范医科大学医学工程系", "示范市医疗器械检验所"),
    ),
    (("A01",), 3, ("教授级高级工程师", "高级工程师"), ("示范市建筑设计研究院有限公司", None)),
    (("A06",), 2, ("高级工程师",), (None,)),
    (("B02",), 1, ("高级工程师",), ("示范大学信息学院",)),
    (("C02",), 2, ("高级经济师",), (None,)),
    (("C04", "B09"), 2, ("高级会计师",), ("示范市正信会计师事务所", None)),
)

#: The named five: expert1 holds only the goods tender's specialties, so it is a candidate there and never for
#: the works committee.
_NAMED_PROFILES: Mapping[str, tuple[tuple[str, ...], str, str, int, str | None]] = {
    "expert1": (("B01", "B09"), "示范市高新区", "高级工程师", 22, "示范医科大学附属医院设备处"),
    "expert2": (("A08", "B09"), "示范市滨江区", "高级经济师", 18, "示范市诚信工程造价咨询有限公司"),
    "expert3": (("A02",), "示范市东湖区", "教授级高级工程师", 27, "示范市市政工程设计研究院有限公司"),
    "expert4": (("B01",), "示范市老城区", "主任医师", 24, "示范市中医院"),
    "expert5": (("B02", "C01"), "示范市高新区", "高级工程师", 12, None),
}

#: Experts working for a demo organisation, by its key: left out of its tenders as its employees.
_WORKS_FOR = {"expert12": "huajian", "expert44": "hospital"}

#: Suspensions: the reason, and the days from seeding until it ends (None: until lifted).
SUSPENSIONS: Mapping[str, tuple[str, int | None]] = {
    "expert09": ("年度考核不合格：两次无正当理由拒绝参加评标，暂停评标资格一年。", 365),
    "expert36": ("被投诉评审时未按招标文件规定的评分标准打分，经核实，暂停评标资格至另行通知。", None),
    "expert57": ("本人申请：借调外地工作期间暂停参加评标。", 180),
}
#: Declared conflicts: the demo organisation's key, the tie, and for a former employer the days it still counts.
CONFLICTS: Mapping[str, tuple[str, Relation, int | None]] = {
    "expert18": ("huajian", Relation.RELATIVE_SHAREHOLDER, None),
    "expert28": ("lvyuan", Relation.RELATIVE_EMPLOYED, None),
    "expert40": ("qiming", Relation.FORMER_EMPLOYER, 730),
    "expert52": ("huajian", Relation.FORMER_EMPLOYER, 400),
}
#: Days away, counted from the day of seeding: the day after is the opened tenders' evaluation day.
AWAY: Mapping[str, tuple[int, ...]] = {"expert30": (1, 2), "expert53": (1,)}


def pool() -> list[DemoExpert]:
    """The demo pool: the named five, then ``expert06`` to ``expert60``, always the same."""
    found = [
        DemoExpert(login, "", None, specialties, region, title, years, employer)
        for login, (specialties, region, title, years, employer) in _NAMED_PROFILES.items()
    ]
    serial = len(NAMED)
    for specialties, count, titles, employers in _GROUPS:
        for index in range(count):
            serial += 1
            login = f"expert{serial:02d}"
            # Strides prime to the lists' lengths give every generated person a different name.
            surname, surname_en = _SURNAMES[(serial * 5) % len(_SURNAMES)]
            given, given_en = _GIVEN_NAMES[(serial * 7) % len(_GIVEN_NAMES)]
            found.append(
                DemoExpert(
                    login,
                    surname + given,
                    f"{surname_en} {given_en}",
                    specialties,
                    "示范市" if login in _IN_PURCHASER_REGION else _DISTRICTS[serial % len(_DISTRICTS)],
                    titles[index % len(titles)],
                    8 + (serial * 7) % 25,
                    None if login in _WORKS_FOR else employers[index % len(employers)],
                    _WORKS_FOR.get(login),
                )
            )
    assert len(found) == POOL_SIZE, "the groups add up to the pool's size"
    return found


_IDENTITY_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def identity_number(region_code: str, born: dt.date, sequence: int) -> str:
    """A citizen identity number (GB 11643): the region's six digits, the date of birth, a three-digit sequence,
    and the check character of ISO 7064 MOD 11-2."""
    first17 = f"{region_code}{born:%Y%m%d}{sequence % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _IDENTITY_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def _profile(
    settings: Settings, serial: int, expert: DemoExpert, organisations: Mapping[str, tuple[str, str]]
) -> ProfileInput:
    region = draws.regions(settings).find(expert.region)
    assert region is not None, "the demo's regions are the shipped ones"
    born = dt.date(1998 - expert.years - serial % 6, 1 + serial % 12, 1 + (serial * 5) % 28)
    employer_name, employer_code = organisations[expert.works_for] if expert.works_for else (expert.employer, None)
    return ProfileInput(
        title=expert.title,
        years=expert.years,
        region=expert.region,
        telephone=f"13{serial % 10}{(serial * 3) % 10} {5120 + serial:04d} {(serial * 7919) % 10000:04d}",
        specialties=list(expert.specialties),
        identity_number=identity_number(region.code, born, serial * 2 + 1),
        employer_name=employer_name,
        employer_credit_code=employer_code,
        email=f"{expert.login}@experts.example.cn" if serial % 3 == 0 else None,
    )


async def _add_person(database: Database, expert: DemoExpert, password: str, password_hash: str) -> None:
    """The person behind a generated expert, as :func:`bidding.accounts.service.create_user` makes it but with a
    hash made once for all of them: Argon2id takes tens of milliseconds a hash on purpose, which fifty-five
    people would add to every seed, and they share the demo password anyway."""
    user = accounts_model.validate_new_user(
        accounts_model.NewUser(expert.login, expert.name, password, [Role.EXPERT], None, "zh-CN", expert.name_en),
        None,
    )
    async with database.transaction() as connection:
        user_id = await accounts_repo.insert_user(connection, user, password_hash)
        details = {"login": user.login, "roles": list(user.roles), "organisation_id": None}
        if user.display_name_en is not None:
            details["display_name_en"] = user.display_name_en
        await audit_repo.insert_event(
            connection, event(PLATFORM, Role.ADMIN, "user.created", f"user:{user_id}", details)
        )


async def seed_pool(
    database: Database, settings: Settings, password: str, organisations: Mapping[str, tuple[str, str]]
) -> None:
    """Add whatever experts of :func:`pool` are missing, with their people (sharing ``password``), suspensions and
    declarations. ``organisations`` gives the name and credit code of each demo organisation by its key."""
    admin = await accounts.act_as(database, ADMIN)
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    password_hash = None
    for serial, expert in enumerate(pool(), start=1):
        try:
            actor = await accounts.act_as(database, expert.login)
        except NotFound:
            if password_hash is None:
                normalised = accounts_model.normalise_password(password)
                password_hash = await asyncio.to_thread(passwords.hash_password, normalised)
            await _add_person(database, expert, password, password_hash)
            actor = await accounts.act_as(database, expert.login)
        try:
            await service.my_file(database, actor)
            continue
        except NotFound:
            pass
        assert actor.principal is not None, "act_as gives a person"
        profile = _profile(settings, serial, expert, organisations)
        created = await service.create_expert(database, settings, admin, NewExpert(actor.principal.user_id, profile))
        if expert.login in SUSPENSIONS:
            reason, days = SUSPENSIONS[expert.login]
            until = today + dt.timedelta(days=days) if days is not None else None
            await service.change_status(
                database, settings, admin, created.id, StatusChange(Status.SUSPENDED, reason, until)
            )
        conflicts = []
        if expert.login in CONFLICTS:
            key, relation, days = CONFLICTS[expert.login]
            name, credit_code = organisations[key]
            until = today + dt.timedelta(days=days) if days is not None else None
            conflicts.append(ConflictInput(credit_code, name, relation, until))
        away = [today + dt.timedelta(days=days) for days in AWAY.get(expert.login, ())]
        if conflicts or away:
            await service.update_declarations(database, settings, actor, Declarations(away, conflicts))


# --- Committees -----------------------------------------------------------------------------------------------


def quotas(settings: Settings, specialties: Sequence[Specialty]) -> list[QuotaInput]:
    """A draw's quotas for the experts a tender wants, its specialties named as the classification names them."""
    codes = {entry.zh: entry.code for entry in draws.classification(settings) if entry.parent is not None}
    return [QuotaInput(codes[wanted.specialty], wanted.count, RESERVES) for wanted in specialties]


async def seed_committee(
    database: Database,
    settings: Settings,
    agent: Actor,
    tender_id: int,
    specialties: Sequence[Specialty],
    committee: Literal["invited", "declared"],
) -> None:
    """Draw an opened tender's committee as the agent and the supervisor do; then, for ``declared``, every member
    accepts and declares no conflict, and for ``invited`` the invitations are left for the experts to answer."""
    draw_id = await draws.request_draw(database, settings, agent, tender_id, DrawRequest(quotas(settings, specialties)))
    supervisor = await accounts.act_as(database, SUPERVISOR)
    async with database.connection() as connection:
        draw = await repo.select_draw(connection, draw_id)
    assert draw is not None, "requested just before"
    # What the supervisor's browser does: a fresh secret, committed to for this draw only, revealed after the
    # platform's one-time code is out. For the committee left to answer, the demo's one program plays both parties
    # and picks the supervisor's secret until expert1 is called, so that a newcomer can answer as expert1.
    if committee == "invited":
        secret = await _secret_calling(database, draw, NAMED[0])
    else:
        secret = secrets.token_bytes(drawing.SECRET_SIZE)
    digest = draw_record.commitment_from_json(draw.commitment).digest
    commitment = drawing.contribution_commitment(digest, draws.SUPERVISOR, secret)
    await draws.commit_contribution(database, settings, supervisor, draw_id, commitment)
    await draws.reveal_contribution(database, settings, supervisor, draw_id, secret)
    if committee == "invited":
        return
    for invitation, login in await _invitations(database, tender_id):
        expert = await accounts.act_as(database, login)
        await draws.answer(database, settings, expert, invitation.id, draws.Answer("accept"))
        await draws.answer(database, settings, expert, invitation.id, draws.Answer("declare"))


async def _secret_calling(database: Database, draw: repo.Draw, login: str) -> bytes:
    """A supervisor's secret with which the draw seats ``login``'s expert.

    Only someone who knows the platform's secret before choosing its own can do this: the collusion of both
    parties that the commitments rule out when they are independent. The draw it makes is an ordinary one in
    the log, replayed like any other. Each secret tried seats a given candidate about as often as seats over
    candidates, so a few tries do.
    """
    person = (await accounts.act_as(database, login)).principal
    assert person is not None, "a demo person"
    async with database.connection() as connection:
        expert = await repo.select_expert_of_user(connection, person.user_id)
    assert expert is not None, "one of the pool"
    label = dict(zip(draw.candidate_ids, model.labels(draw.label_key, draw.candidate_ids), strict=True))[expert.id]
    inputs = draw_record.inputs_from_json(json.loads(draw.inputs))
    commitment = draw_record.commitment_from_json(draw.commitment)
    code = drawing.one_time_code(draw.secret, commitment)
    while True:
        secret = secrets.token_bytes(drawing.SECRET_SIZE)
        key = drawing.seed_from(commitment, code, drawing.contributions_randomness([(draws.SUPERVISOR, secret)]))
        try:
            result = drawing.draw(inputs, key)
        except drawing.DrawError:
            continue
        if any(label in group.members for group in result.groups):
            return secret


async def _invitations(database: Database, tender_id: int) -> list[tuple[repo.Invitation, str]]:
    """A tender's invitations by seat, each with the login of the expert invited."""
    async with database.connection() as connection:
        found = []
        for invitation in await repo.select_invitations(connection, tender_id):
            expert = await repo.select_expert(connection, invitation.expert_id)
            assert expert is not None, "an expert is never deleted"
            found.append((invitation, expert.login))
    return found


async def pending_logins(database: Database, tender_id: int) -> list[str]:
    """The experts whose invitation to a tender's committee awaits their answer, by seat."""
    return [login for invitation, login in await _invitations(database, tender_id) if invitation.status == "pending"]
