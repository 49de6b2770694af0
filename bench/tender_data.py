"""Many published tenders for the tenders benchmark, generated from word lists and loaded in bulk.

Rows are generated in Python from a seeded random generator (the same run gives the same data) and loaded with
binary COPY: organisations and users first, then tenders (through a staging table, so that the search column is
filled by ``array_to_tsvector`` over :func:`bidding.tenders.search_model.search_terms`, as the application fills it),
lots, custodians, documents, registrations, questions, amendments, and the OCDS releases the application would
have published about them (:func:`bidding.opendata.model.release`, encoded by ``encode``), in date order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from bidding.accounts.model import credit_code_check_character
from bidding.demo.tenders import CHECKS, goods_scoring, sale_scoring, services_scoring, works_scoring
from bidding.opendata import model as opendata
from bidding.settings import Settings
from bidding.tenders import model, search_model, validation
from bidding.tenders.model import Category, Contact, LocalText, Method, Procedure, Status

Pair = tuple[str, str]

# --- Word lists (Chinese, English) ------------------------------------------------------------------------------

REGIONS: list[Pair] = [
    ("示范市", "Demo City"),
    ("示范市滨江区", "Binjiang District"),
    ("示范市高新区", "Hi-tech Zone"),
    ("示范市经开区", "Economic Development Zone"),
    ("示范市东城区", "Dongcheng District"),
    ("示范市西城区", "Xicheng District"),
    ("示范市南湖区", "Nanhu District"),
    ("示范市北山区", "Beishan District"),
    ("示范市临空经济区", "Airport Economic Zone"),
    ("示范市综合保税区", "Bonded Zone"),
    ("青石县", "Qingshi County"),
    ("云溪县", "Yunxi County"),
    ("临江县", "Linjiang County"),
    ("白鹭县", "Bailu County"),
    ("青石县枫桥镇", "Fengqiao, Qingshi County"),
    ("云溪县柳塘镇", "Liutang, Yunxi County"),
    ("临江县双河镇", "Shuanghe, Linjiang County"),
    ("白鹭县石门镇", "Shimen, Bailu County"),
    ("示范市滨江区新安街道", "Xin'an Subdistrict, Binjiang"),
    ("示范市东城区港城街道", "Gangcheng Subdistrict, Dongcheng"),
]
OWNERS: list[Pair] = [
    ("第一人民医院", "First People's Hospital"),
    ("中医院", "Hospital of Traditional Chinese Medicine"),
    ("妇幼保健院", "Maternal and Child Health Hospital"),
    ("疾病预防控制中心", "Center for Disease Control"),
    ("实验中学", "Experimental Middle School"),
    ("第二中学", "No. 2 Middle School"),
    ("实验小学", "Experimental Primary School"),
    ("职业技术学院", "Vocational and Technical College"),
    ("城市建设投资集团", "Urban Construction Investment Group"),
    ("交通运输局", "Transport Bureau"),
    ("水务集团", "Water Group"),
    ("教育局", "Education Bureau"),
    ("人民政府", "People's Government"),
    ("公安局", "Public Security Bureau"),
    ("住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("文化广电旅游局", "Culture and Tourism Bureau"),
    ("图书馆", "Library"),
    ("体育中心", "Sports Centre"),
    ("城市管理局", "City Management Bureau"),
    ("生态环境局", "Ecology and Environment Bureau"),
    ("农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("公交集团", "Public Transport Group"),
]
#: The seller of land-use rights, and of state-owned property, in each region.
LAND_OWNER: Pair = ("自然资源和规划局", "Natural Resources and Planning Bureau")
PROPERTY_OWNER: Pair = ("国有资产投资经营有限公司", "State Assets Investment Co., Ltd.")

WORKS_SUBJECTS: list[Pair] = [
    ("门诊楼", "outpatient building"),
    ("住院楼", "inpatient building"),
    ("教学楼", "teaching building"),
    ("学生宿舍", "student dormitory"),
    ("体育馆", "gymnasium"),
    ("图书馆", "library building"),
    ("污水处理厂", "sewage treatment plant"),
    ("市政道路", "urban road"),
    ("跨河大桥", "river bridge"),
    ("排水管网", "drainage network"),
    ("综合管廊", "utility tunnel"),
    ("安置小区", "resettlement housing"),
    ("老旧小区", "old residential estate"),
    ("河道", "river channel"),
    ("城市公园", "city park"),
    ("公共停车场", "public car park"),
    ("变电站", "substation"),
    ("垃圾转运站", "waste transfer station"),
    ("农贸市场", "farmers' market"),
    ("消防站", "fire station"),
    ("供水管网", "water mains"),
    ("办公楼", "office building"),
    ("实验楼", "laboratory building"),
    ("食堂", "canteen"),
]
WORKS_ACTIONS: list[Pair] = [
    ("改造工程", "renovation"),
    ("新建工程", "construction"),
    ("维修工程", "repairs"),
    ("扩建工程", "extension"),
    ("提升工程", "upgrade"),
    ("整治工程", "rehabilitation"),
    ("抗震加固工程", "seismic strengthening"),
    ("设计施工总承包", "design and build"),
]
WORKS_SCOPES: list[Pair] = [
    ("土建、安装、装饰装修及室外配套", "structure, services, fit-out and external works"),
    ("道路、排水、照明及绿化", "roadway, drainage, lighting and planting"),
    ("主体结构加固及机电设备更新", "structural strengthening and new building services"),
    ("场地平整、桩基及主体结构施工", "site levelling, piling and main structure"),
    ("屋面防水、外立面及节能改造", "roofing, facades and energy retrofit"),
]
WORKS_LOTS: list[Pair] = [
    ("施工总承包", "main contract"),
    ("土建工程", "civil works"),
    ("安装工程", "installation"),
    ("装饰装修工程", "fit-out"),
    ("室外配套工程", "external works"),
    ("智能化工程", "building automation"),
]
GOODS_ITEMS: list[Pair] = [
    ("医用CT", "CT scanner"),
    ("核磁共振成像系统", "MRI system"),
    ("彩色多普勒超声诊断仪", "colour Doppler ultrasound"),
    ("数字化X射线摄影系统", "digital radiography system"),
    ("全自动生化分析仪", "automatic biochemistry analyser"),
    ("救护车", "ambulances"),
    ("服务器", "servers"),
    ("存储设备", "storage systems"),
    ("网络交换机", "network switches"),
    ("台式计算机", "desktop computers"),
    ("办公家具", "office furniture"),
    ("教学设备", "teaching equipment"),
    ("实验室仪器", "laboratory instruments"),
    ("消防车", "fire engines"),
    ("电梯", "lifts"),
    ("空调设备", "air conditioning"),
    ("LED显示屏", "LED displays"),
    ("图书", "books"),
    ("学生校服", "school uniforms"),
    ("净水设备", "water purifiers"),
    ("新能源公交车", "electric buses"),
    ("视频监控设备", "CCTV equipment"),
    ("病床", "hospital beds"),
    ("呼吸机", "ventilators"),
]
GOODS_ACTIONS: list[Pair] = [
    ("采购", "procurement"),
    ("采购项目", "procurement project"),
    ("更新采购", "replacement"),
    ("集中采购", "central procurement"),
]
SERVICES_ITEMS: list[Pair] = [
    ("物业管理服务", "facility management"),
    ("保洁服务", "cleaning services"),
    ("安保服务", "security services"),
    ("食堂餐饮服务", "canteen catering"),
    ("财务审计服务", "financial audit"),
    ("法律顾问服务", "legal counsel"),
    ("工程造价咨询服务", "cost consultancy"),
    ("工程监理服务", "construction supervision"),
    ("勘察设计服务", "survey and design"),
    ("绿化养护服务", "landscape maintenance"),
    ("信息系统运维服务", "IT operations"),
    ("印刷服务", "printing"),
    ("公务用车租赁服务", "vehicle hire"),
    ("保险服务", "insurance"),
    ("医疗废物处置服务", "medical waste disposal"),
    ("道路清扫保洁服务", "street cleaning"),
    ("智慧停车运营服务", "smart parking operation"),
    ("课后托管服务", "after-school care"),
]
LAND_USES: list[Pair] = [
    ("住宅用地", "residential"),
    ("商业用地", "commercial"),
    ("工业用地", "industrial"),
    ("商务金融用地", "commercial and financial"),
    ("仓储用地", "warehousing"),
    ("科研用地", "research"),
    ("商住用地", "mixed commercial and residential"),
]
ROADS: list[Pair] = [
    ("科创路", "Kechuang Road"),
    ("人民路", "Renmin Road"),
    ("滨湖大道", "Binhu Avenue"),
    ("长江路", "Changjiang Road"),
    ("青年路", "Qingnian Road"),
    ("建设路", "Jianshe Road"),
    ("学府路", "Xuefu Road"),
    ("迎宾大道", "Yingbin Avenue"),
    ("东环路", "East Ring Road"),
    ("港湾路", "Gangwan Road"),
]
SIDES: list[Pair] = [("北侧", "north of"), ("南侧", "south of"), ("东侧", "east of"), ("西侧", "west of")]
LAND_METHODS: list[Pair] = [("挂牌", "listing"), ("招标", "tender"), ("拍卖", "auction")]
COMPANIES: list[Pair] = [
    ("水务科技有限公司", "Water Technology Co., Ltd."),
    ("城市燃气有限公司", "City Gas Co., Ltd."),
    ("公交客运有限公司", "Bus Company Ltd."),
    ("文化旅游发展有限公司", "Culture and Tourism Development Co., Ltd."),
    ("环保能源有限公司", "Environmental Energy Co., Ltd."),
    ("建材有限公司", "Building Materials Co., Ltd."),
    ("物流有限公司", "Logistics Co., Ltd."),
    ("酒店管理有限公司", "Hotel Management Co., Ltd."),
]
BIDDER_NAMES: list[str] = [
    "华建工程集团",
    "启明信息技术",
    "绿源环境科技",
    "中天建设",
    "宏图市政工程",
    "联影医疗器械销售",
    "方正物业服务",
    "长城安保服务",
    "金桥造价咨询",
    "东方监理",
    "蓝天环保",
    "恒信会计师事务所",
    "博远律师事务所",
    "新华书店",
    "鑫源置业",
    "海川投资",
]
#: Questions bidders ask, and answers, by how often they come up in any tender.
QUESTIONS: list[Pair] = [
    (
        "投标保证金是否接受电子保函？",
        "接受。投标保证金可采用银行电子保函或保险电子保函，须在投标截止时间前到账或出具。",
    ),
    ("是否组织现场踏勘？", "不组织集中踏勘，投标人可自行踏勘现场，费用自理。"),
    ("项目经理是否可以同时在其他项目任职？", "不可以。项目经理不得同时在两个及以上在建项目任职。"),
    ("是否接受联合体投标？", "本项目不接受联合体投标。"),
    ("核心参数中的★条款是否允许偏离？", "★条款为实质性要求，不允许负偏离。"),
    ("付款方式能否调整为按月支付？", "付款方式以招标文件合同条款为准，不作调整。"),
    ("投标文件是否需要纸质版？", "不需要。本项目全流程电子化，投标文件在线加密递交。"),
    (
        "Can the bid be submitted in English?",
        "Bids are in Chinese; supporting documents in English need a translation.",
    ),
]
DOCUMENTS = {
    Category.WORKS: [("招标文件.pdf", "application/pdf"), ("工程量清单.xlsx", validation.DOCUMENT_TYPES[".xlsx"])],
    Category.GOODS: [("采购文件.pdf", "application/pdf"), ("技术参数表.docx", validation.DOCUMENT_TYPES[".docx"])],
    Category.SERVICES: [("采购文件.pdf", "application/pdf"), ("服务需求书.docx", validation.DOCUMENT_TYPES[".docx"])],
    Category.LAND_USE: [("出让文件.pdf", "application/pdf"), ("宗地图.dwg", "image/vnd.dwg")],
    Category.STATE_PROPERTY: [("转让公告及文件.pdf", "application/pdf"), ("资产评估报告.pdf", "application/pdf")],
}
SPECIALTIES = {
    Category.WORKS: [{"specialty": "房屋建筑工程", "count": 3}, {"specialty": "工程造价", "count": 2}],
    Category.GOODS: [{"specialty": "设备", "count": 3}, {"specialty": "经济", "count": 2}],
    Category.SERVICES: [{"specialty": "管理", "count": 3}, {"specialty": "财务", "count": 2}],
    Category.LAND_USE: [{"specialty": "城乡规划", "count": 2}, {"specialty": "土地估价", "count": 3}],
    Category.STATE_PROPERTY: [{"specialty": "资产评估", "count": 3}, {"specialty": "法律", "count": 2}],
}
#: Budgets (yuan) of a lot, drawn log-uniformly between these, by category.
BUDGETS = {
    Category.WORKS: (1_000_000, 500_000_000),
    Category.GOODS: (200_000, 50_000_000),
    Category.SERVICES: (100_000, 30_000_000),
    Category.LAND_USE: (10_000_000, 2_000_000_000),
    Category.STATE_PROPERTY: (500_000, 500_000_000),
}
CATEGORY_WEIGHTS = {
    Category.WORKS: 30,
    Category.GOODS: 30,
    Category.SERVICES: 25,
    Category.LAND_USE: 7,
    Category.STATE_PROPERTY: 8,
}
#: What happened to tenders whose deadline has passed (the application does not close them yet).
PAST_STATUSES = {
    Status.PUBLISHED: 80,
    Status.CLOSED: 5,
    Status.AWARDED: 8,
    Status.FAILED: 4,
    Status.CANCELLED: 3,
}
#: Tenders published over this many days before now, the newest an hour ago.
SPAN_DAYS = 3 * 365
AMENDED_SHARE = 0.10
ASKED_SHARE = 0.20
ANSWERED_SHARE = 0.8
REGISTERED_SHARE = 0.30


# --- Generation -------------------------------------------------------------------------------------------------


@functools.cache
def _criteria(category: Category, method: Method) -> str:
    """The criteria of a lot as the application stores them (JSON of ``Criterion`` structs)."""
    if method is Method.LOWEST_PRICE:
        criteria = CHECKS
    elif category is Category.WORKS:
        criteria = works_scoring()
    elif category is Category.GOODS:
        criteria = goods_scoring()
    elif category is Category.SERVICES:
        criteria = services_scoring()
    elif category is Category.LAND_USE:
        criteria = sale_scoring("开发建设方案", "Development plan")
    else:
        criteria = sale_scoring("受让方案", "Plan for the company")
    return json.dumps(msgspec.to_builtins(criteria), ensure_ascii=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Parties:
    """Who the generated tenders name: ids (and parties as a release shows them) of the seeded organisations."""

    agencies: list[model.Party]
    agent_ids: list[int]
    #: Purchasers by (region, owner).
    purchasers: dict[tuple[str, str], model.Party]
    bidders: list[model.Party]
    bidder_user_ids: list[int]
    custodian_ids: list[int]


@dataclasses.dataclass
class Generated:
    tenders: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    lots: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    custodians: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    invitations: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    documents: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    registrations: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    questions: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    amendments: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    #: (date, order, release as JSON text, ocid, release id, tender id, tags); sorted by date before loading.
    releases: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return Decimal(int(value / 100) * 100).quantize(Decimal("0.01"))


def _title(rng: random.Random, category: Category, region: Pair, owner: Pair) -> tuple[Pair, Pair, list[Pair]]:
    """The title, the description and the lot titles of a tender, in Chinese and English."""
    buyer_zh, buyer_en = region[0] + owner[0], f"{owner[1]}, {region[1]}"
    if category is Category.WORKS:
        subject, action, scope = rng.choice(WORKS_SUBJECTS), rng.choice(WORKS_ACTIONS), rng.choice(WORKS_SCOPES)
        area, days = rng.randrange(2_000, 90_000, 100), rng.randrange(90, 720, 30)
        title = (buyer_zh + subject[0] + action[0], f"{subject[1].capitalize()} {action[1]}, {buyer_en}")
        description = (
            f"本项目位于{region[0]}，主要建设内容包括{scope[0]}等，建筑面积约{area}平方米，计划工期{days}日历天，"
            "质量要求合格。投标人须具备相应施工总承包资质。",
            f"In {region[1]}: {scope[1]}, about {area} m², {days} calendar days. Bidders hold the main-contractor "
            "qualification for the works.",
        )
        return title, description, rng.sample(WORKS_LOTS, 3)
    if category is Category.GOODS:
        item, action = rng.choice(GOODS_ITEMS), rng.choice(GOODS_ACTIONS)
        quantity, years = rng.randrange(1, 60), rng.choice((1, 2, 3, 5))
        title = (buyer_zh + item[0] + action[0], f"{item[1].capitalize()} {action[1]}, {buyer_en}")
        description = (
            f"采购{item[0]}{quantity}台（套），含运输、安装、调试、培训及{years}年原厂质保。核心参数不满足的投标无效。",
            f"{quantity} units of {item[1]}, delivered, installed and commissioned, with training and {years} "
            "years of manufacturer's warranty. Bids missing a core parameter are rejected.",
        )
        return title, description, [(f"第{k}包：{item[0]}", f"Package {k}: {item[1]}") for k in (1, 2, 3)]
    if category is Category.SERVICES:
        item, years = rng.choice(SERVICES_ITEMS), rng.choice((1, 2, 3))
        area = rng.randrange(5_000, 300_000, 1_000)
        title = (buyer_zh + item[0] + rng.choice(("", "项目", "采购项目")), f"{item[1].capitalize()}, {buyer_en}")
        description = (
            f"为{buyer_zh}提供为期{years}年的{item[0]}，服务范围约{area}平方米，按年度考核。",
            f"{item[1].capitalize()} for {buyer_en} for {years} years, about {area} m², appraised yearly.",
        )
        return title, description, [(f"第{k}包：{item[0]}", f"Package {k}: {item[1]}") for k in (1, 2, 3)]
    if category is Category.LAND_USE:
        road, side, use, method = rng.choice(ROADS), rng.choice(SIDES), rng.choice(LAND_USES), rng.choice(LAND_METHODS)
        code = f"{region[1][:2].upper()}{rng.randrange(2020, 2027)}-{rng.randrange(1, 60):02d}"
        area, years = rng.randrange(5_000, 200_000, 10), 70 if "住" in use[0] else 40 if "商" in use[0] else 50
        ratio = rng.choice(("2.0", "2.5", "3.0"))
        title = (
            f"{region[0]}{road[0]}{side[0]}{code}号地块国有建设用地使用权{method[0]}出让",
            f"Land-use rights of plot {code}, {side[1]} {road[1]}, {region[1]}: grant by {method[1]}",
        )
        description = (
            f"出让地块面积{area}平方米，用途为{use[0]}，出让年限{years}年，容积率1.0—{ratio}。",
            f"{area} m² for {use[1]} use, granted for {years} years.",
        )
        return title, description, [(f"{code}号地块", f"Plot {code}")] * 3
    company, share = rng.choice(COMPANIES), rng.choice((10, 20, 30, 40, 51, 100))
    title = (
        f"{region[0]}{company[0]}{share}%股权转让",
        f"Transfer of {share} % of {region[1]} {company[1]}",
    )
    description = (
        f"转让方拟转让其持有的{region[0]}{company[0]}{share}%股权，转让底价为本项目预算金额，受让方须承继职工劳动合同。",
        f"A {share} % stake offered at the reserve price of the budget; the buyer keeps the employment contracts.",
    )
    return title, description, [(f"{share}%股权", f"{share} % stake")] * 3


def generate(count: int, parties: Parties, now: dt.datetime, settings: Settings, seed: int = 1) -> Generated:
    """``count`` published tenders with everything about them, ids 1…count in publication order."""
    rng = random.Random(seed)
    out = Generated()
    timezone = ZoneInfo(settings.timezone)
    categories = list(CATEGORY_WEIGHTS)
    category_weights = list(CATEGORY_WEIGHTS.values())
    past_statuses, past_weights = list(PAST_STATUSES), list(PAST_STATUSES.values())
    start = now - dt.timedelta(days=SPAN_DAYS)
    step = (dt.timedelta(days=SPAN_DAYS) - dt.timedelta(hours=1)) / max(count, 1)
    document_id = 0
    context = _context_of(settings)
    specialties = {category: json.dumps(value, ensure_ascii=False) for category, value in SPECIALTIES.items()}
    for tender_id in range(1, count + 1):
        category = rng.choices(categories, category_weights)[0]
        region = rng.choice(REGIONS)
        owner = LAND_OWNER if category is Category.LAND_USE else PROPERTY_OWNER
        if category not in (Category.LAND_USE, Category.STATE_PROPERTY):
            owner = rng.choice(OWNERS)
        purchaser = parties.purchasers[region[0], owner[0]]
        agency_index = rng.randrange(len(parties.agencies))
        agency, agent_id = parties.agencies[agency_index], parties.agent_ids[agency_index]
        published_at = start + step * tender_id + dt.timedelta(seconds=rng.randrange(0, 600))
        local = published_at.astimezone(timezone)
        # Times are kept in UTC, as the application reads them from the database and writes them in releases.
        deadline = (local + dt.timedelta(days=rng.randrange(21, 46))).replace(
            hour=9, minute=30, second=0, microsecond=0
        )
        deadline = deadline.astimezone(dt.UTC)
        questions_until = deadline - dt.timedelta(days=10)
        evaluation_at = deadline + dt.timedelta(hours=1)
        created_at = published_at - dt.timedelta(hours=rng.randrange(2, 240))
        status = Status.PUBLISHED if deadline > now else rng.choices(past_statuses, past_weights)[0]
        procedure = Procedure.INVITED if rng.random() < 0.05 else Procedure.OPEN
        reference = model.make_reference(category, local.year, tender_id)
        title, description, lot_titles = _title(rng, category, region, owner)
        lot_count = rng.choices((1, 2, 3), (60, 25, 15))[0]
        lots = []
        for number in range(1, lot_count + 1):
            budget = _amount(rng, *BUDGETS[category])
            security = (budget * Decimal("0.02") / 1000).to_integral_value(rounding="ROUND_FLOOR") * 1000
            security = Decimal(0) if rng.random() < 0.2 else security.quantize(Decimal("0.01"))
            method = Method.COMPREHENSIVE
            if category in (Category.WORKS, Category.GOODS, Category.SERVICES) and rng.random() < 0.35:
                method = Method.LOWEST_PRICE
            lot_title = lot_titles[number - 1]
            lots.append(model.Lot(number, LocalText(*lot_title), budget, security, method, []))
            out.lots.append(
                (
                    tender_id,
                    number,
                    lot_title[0],
                    lot_title[1],
                    budget,
                    security,
                    method.value,
                    _criteria(category, method),
                )
            )
        amended_at = published_at + dt.timedelta(days=rng.uniform(1, 9))
        amended = rng.random() < AMENDED_SHARE and amended_at < min(now, questions_until)
        cancelled_at = None
        cancel_reason = None
        if status is Status.CANCELLED:
            cancelled_at = min(deadline - dt.timedelta(days=rng.uniform(1, 5)), now)
            cancel_reason = "因采购需求发生变化，经采购人申请，本项目终止。"
        budget_total = sum((lot.budget for lot in lots), Decimal(0))
        terms = search_model.tender_search_terms(
            reference, region[0], LocalText(*title), LocalText(*description), (lot.title for lot in lots)
        )
        version = 2 if amended else 1
        out.tenders.append(
            (
                tender_id, reference, agency.id, purchaser.id, status.value, category.value, procedure.value,
                region[0], budget_total, title[0], title[1], description[0], description[1], published_at,
                questions_until, deadline, evaluation_at, 5, specialties[category],
                2, version, agent_id, created_at, cancelled_at or (amended_at if amended else published_at),
                published_at, cancelled_at, cancel_reason, terms,
            )
        )  # fmt: skip
        for position, custodian_id in enumerate(parties.custodian_ids):
            out.custodians.append((tender_id, custodian_id, position))
        # Documents: the main file (a second version when amended) and, for most, an annex.
        kinds = DOCUMENTS[category][: 1 if rng.random() < 0.3 else 2]
        versions: list[model.DocumentVersion] = []
        for name, content_type in kinds:
            document_id += 1
            uploaded_at = published_at - dt.timedelta(minutes=rng.randrange(5, 2000))
            sha256 = hashlib.sha256(f"{tender_id}/{name}/1".encode()).digest()
            size = rng.randrange(80_000, 20_000_000)
            out.documents.append((document_id, tender_id, name, 1, sha256, size, content_type, agent_id, uploaded_at))
            versions.append(
                model.DocumentVersion(document_id, tender_id, name, 1, sha256, size, content_type, uploaded_at, True)
            )
        first_documents = sorted(versions, key=lambda d: (d.name, -d.version))
        # Registrations, and questions from some of those registered.
        invited: list[int] = []
        if procedure is Procedure.INVITED:
            invited = rng.sample(range(len(parties.bidders)), rng.randrange(model.MIN_INVITED, 6))
            out.invitations += [(tender_id, parties.bidders[index].id) for index in invited]
        registered: list[int] = []
        if rng.random() < REGISTERED_SHARE:
            registered = rng.sample(invited or range(len(parties.bidders)), rng.randrange(1, 4))
        latest = min(now, deadline)
        for index in registered:
            moment = published_at + (latest - published_at) * rng.random() * 0.5
            out.registrations.append((tender_id, parties.bidders[index].id, parties.bidder_user_ids[index], moment))
        if registered and rng.random() < ASKED_SHARE / REGISTERED_SHARE:
            asked_until = min(now, questions_until)
            for order, index in enumerate(registered[: rng.randrange(1, 4)]):
                question, answer = rng.choice(QUESTIONS)
                asked_at = published_at + (asked_until - published_at) * rng.uniform(0.5, 0.9)
                answered = rng.random() < ANSWERED_SHARE
                answered_at = asked_at + (latest - asked_at) * rng.uniform(0.1, 0.9) if answered else None
                out.questions.append(
                    (
                        tender_id, parties.bidders[index].id, parties.bidder_user_ids[index],
                        validation.pseudonym(order), question, asked_at, answer if answered else None,
                        agent_id if answered else None, answered_at,
                    )
                )  # fmt: skip
        tender = model.Tender(
            id=tender_id, reference=reference, status=Status.PUBLISHED, category=category, procedure=procedure,
            region=region[0], currency="CNY", budget=budget_total, title=LocalText(*title),
            description=LocalText(*description), documents_from=published_at, questions_until=questions_until,
            deadline=deadline, evaluation_at=evaluation_at, committee_size=5, specialties=SPECIALTIES[category],
            custody_threshold=2, custodian_ids=tuple(parties.custodian_ids),
            invited_ids=tuple(sorted(parties.bidders[index].id for index in invited)), version=1,
            agency=agency, purchaser=purchaser, created_by=agent_id, created_at=created_at, updated_at=published_at,
            published_at=published_at, cancelled_at=None, cancel_reason=None, lots=tuple(lots), contact=Contact(),
            purchaser_contact=Contact(),
        )  # fmt: skip
        _release(out, context, tender, first_documents, [], "tender", published_at)
        if amended:
            document_id += 1
            main = versions[0]
            sha256 = hashlib.sha256(f"{tender_id}/{main.name}/2".encode()).digest()
            second = dataclasses.replace(
                main, id=document_id, version=2, sha256=sha256, size=main.size + 4096, uploaded_at=amended_at
            )
            out.documents.append(
                (document_id, tender_id, main.name, 2, sha256, second.size, main.content_type, agent_id, amended_at)
            )
            documents = sorted(
                [second, dataclasses.replace(main, current=False), *versions[1:]], key=lambda d: (d.name, -d.version)
            )
            summary = "更正招标文件第三章技术要求，发布招标文件第二版。"
            changes = {f"documents.{main.name}": {"before": main.sha256.hex(), "after": sha256.hex()}}
            out.amendments.append(
                (tender_id, 2, summary, True, json.dumps(changes), deadline, deadline, False, agent_id, amended_at)
            )
            amendment = model.Amendment(2, summary, True, changes, deadline, deadline, False, amended_at)
            tender = dataclasses.replace(tender, version=2, updated_at=amended_at)
            _release(out, context, tender, documents, [amendment], "tenderAmendment", amended_at)
            first_documents, amendments = documents, [amendment]
        else:
            amendments = []
        if cancelled_at is not None:
            tender = dataclasses.replace(
                tender, status=Status.CANCELLED, cancelled_at=cancelled_at, cancel_reason=cancel_reason
            )
            _release(out, context, tender, first_documents, amendments, "tenderCancellation", cancelled_at)
    out.releases.sort(key=lambda row: (row[0], row[1]))
    return out


def _context_of(settings: Settings) -> Callable[[dt.datetime], opendata.ReleaseContext]:
    def context(date: dt.datetime) -> opendata.ReleaseContext:
        return opendata.ReleaseContext(settings.ocid_prefix, settings.base_url, date)

    return context


def _release(
    out: Generated,
    context: Callable[[dt.datetime], opendata.ReleaseContext],
    tender: model.Tender,
    documents: Sequence[model.DocumentVersion],
    amendments: Sequence[model.Amendment],
    tag: str,
    date: dt.datetime,
) -> None:
    """The release the application writes for this change (``opendata.service.record_release``)."""
    release = opendata.release(tender, documents, amendments, tag, context(date))
    encoded = opendata.encode(release).decode()
    out.releases.append((date, len(out.releases), encoded, release["ocid"], release["id"], tender.id, release["tag"]))


# --- Loading ----------------------------------------------------------------------------------------------------


def _credit_code(prefix: str, serial: int) -> str:
    first17 = f"{prefix}{serial:07d}"
    return first17 + credit_code_check_character(first17)


async def seed_parties(connection: asyncpg.Connection) -> Parties:
    """The trading centre, agencies with one agent each, purchasers in every region, bidders, custodians."""

    async def organisation(kind: str, name: str, name_en: str | None, code: str | None) -> model.Party:
        organisation_id = await connection.fetchval(
            """INSERT INTO organisations (kind, name, name_en, region, credit_code) VALUES ($1, $2, $3, '示范市', $4)
               RETURNING id""",
            kind,
            name,
            name_en,
            code,
        )
        return model.Party(organisation_id, name, name_en, code)

    async def user(login: str, role: str, organisation_id: int) -> int:
        user_id: int = await connection.fetchval(
            """INSERT INTO users (login, display_name, language, organisation_id, password_hash)
               VALUES ($1, $1, 'zh-CN', $2, 'not-a-hash') RETURNING id""",
            login,
            organisation_id,
        )
        await connection.execute("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", user_id, role)
        return user_id

    serial = iter(range(1, 10_000))
    centre = await organisation("platform", "示范市公共资源交易中心", "Demo City Trading Centre", None)
    agencies, agent_ids = [], []
    for index, name in enumerate(("明诚", "中信", "华采", "正衡", "国信", "建经", "诚信", "公诚"), start=1):
        agency = await organisation(
            "agency", f"示范市{name}招标代理有限公司", None, _credit_code("91320500MA", next(serial))
        )
        agencies.append(agency)
        agent_ids.append(await user(f"agent{index}", "agency_staff", agency.id))
    purchasers = {}
    for region, region_en in REGIONS:
        for owner, owner_en in [*OWNERS, LAND_OWNER, PROPERTY_OWNER]:
            code = _credit_code("12320500MB", next(serial))
            purchasers[region, owner] = await organisation(
                "purchaser", region + owner, f"{owner_en}, {region_en}", code
            )
    bidders, bidder_user_ids = [], []
    for index, name in enumerate(BIDDER_NAMES, start=1):
        bidder = await organisation("bidder", f"{name}有限公司", None, _credit_code("91320500MA", next(serial)))
        bidders.append(bidder)
        bidder_user_ids.append(await user(f"bidder{index}", "bidder", bidder.id))
    custodian_ids = [await user(f"custodian{index}", "custodian", centre.id) for index in (1, 2, 3)]
    return Parties(agencies, agent_ids, purchasers, bidders, bidder_user_ids, custodian_ids)


TENDER_COLUMNS = (
    "id", "reference", "agency_id", "purchaser_id", "status", "category", "procedure", "region", "budget",
    "title_zh", "title_en", "description_zh", "description_en", "documents_from", "questions_until", "deadline",
    "evaluation_at", "committee_size", "specialties", "custody_threshold", "version", "created_by", "created_at",
    "updated_at", "published_at", "cancelled_at", "cancel_reason",
)  # fmt: skip


async def load(connection: asyncpg.Connection, data: Generated, report: Callable[[str], None]) -> None:
    """Load generated rows; the search column is ``array_to_tsvector`` of the terms, as the application sets it."""
    columns = ", ".join(TENDER_COLUMNS)
    # Indexes are built once after the load rather than row by row during it (the GIN index above all), from
    # their own definitions: the same indexes as the migration made. Constraints' indexes stay.
    indexes = await connection.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i WHERE i.indrelid = 'tenders'::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""
    )
    for index in indexes:
        await connection.execute(f'DROP INDEX "{index["name"]}"')
    await connection.execute(
        "CREATE TEMPORARY TABLE staged_tenders AS SELECT "  # noqa: S608  # a constant column list
        + columns
        + ", '{}'::text[] AS terms FROM tenders LIMIT 0"
    )
    started = time.perf_counter()
    await connection.copy_records_to_table("staged_tenders", records=data.tenders, columns=[*TENDER_COLUMNS, "terms"])
    await connection.execute(
        f"INSERT INTO tenders ({columns}, search) OVERRIDING SYSTEM VALUE "  # noqa: S608  # a constant column list
        f"SELECT {columns}, array_to_tsvector(terms) FROM staged_tenders ORDER BY id"
    )
    await connection.execute("DROP TABLE staged_tenders")
    report(f"loaded tenders {len(data.tenders):,} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for index in indexes:
        await connection.execute(index["definition"])
    report(f"built the {len(indexes)} indexes of tenders in {time.perf_counter() - started:.1f} s")
    tables = [
        ("tender_lots", data.lots, None),
        ("tender_custodians", data.custodians, ("tender_id", "user_id", "position")),
        ("tender_invitations", data.invitations, ("tender_id", "organisation_id")),
        (
            "tender_documents",
            data.documents,
            ("id", "tender_id", "name", "version", "sha256", "size", "content_type", "uploaded_by", "uploaded_at"),
        ),
        (
            "tender_registrations",
            data.registrations,
            ("tender_id", "organisation_id", "registered_by", "registered_at"),
        ),
        (
            "tender_questions",
            data.questions,
            ("tender_id", "organisation_id", "asked_by", "pseudonym", "question", "asked_at", "answer",
             "answered_by", "answered_at"),
        ),
        (
            "tender_amendments",
            data.amendments,
            ("tender_id", "version", "summary", "substantive", "changes", "deadline_before", "deadline_after",
             "deadline_pushed", "created_by", "created_at"),
        ),
        (
            "ocds_releases",
            [(ocid, release_id, tender_id, date, tags, release) for date, _, release, ocid, release_id, tender_id, tags
             in data.releases],
            ("ocid", "release_id", "tender_id", "date", "tags", "release"),
        ),
    ]  # fmt: skip
    for table, records, table_columns in tables:
        started = time.perf_counter()
        await connection.copy_records_to_table(
            table, records=records, columns=list(table_columns) if table_columns else None
        )
        report(f"loaded {table} {len(records):,} in {time.perf_counter() - started:.1f} s")
    # Identities given explicitly (tenders, documents) continue after the largest id, as if the app had made them.
    await connection.execute("SELECT setval(pg_get_serial_sequence('tenders', 'id'), (SELECT max(id) FROM tenders))")
    await connection.execute(
        "SELECT setval(pg_get_serial_sequence('tender_documents', 'id'), (SELECT max(id) FROM tender_documents))"
    )
    await connection.execute("SELECT setval('tender_reference_serial', (SELECT count(*) FROM tenders))")
