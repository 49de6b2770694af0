"""The demo tenders: one or more published in every category, an invited one, a draft and a cancelled one, and two
opened, one with its committee drawn and declared, one with its experts' invitations pending.

Plain data for :mod:`bidding.demo.seed`, which takes them through the tender use cases. Realistic for a Chinese city's
trading centre, in Chinese and English; budgets, bid security and criteria satisfy every rule of
:func:`bidding.tenders.validation.validate_tender`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from bidding.demo.bids import DemoBid
from bidding.tenders.model import (
    Category,
    Contact,
    Criterion,
    LocalText,
    LotInput,
    Method,
    PriceFormula,
    Procedure,
    Specialty,
)

REGION = "示范市"
#: The demo agency's contact person, named in every notice it runs (the demo agent herself).
AGENCY_CONTACT = Contact("李娜", "0512-6818 3370", "li.na@mingcheng-zb.example.cn")
#: The purchasers' own contact persons, by their key in ``demo.ORGANISATIONS``, for the notices that name one.
PURCHASER_CONTACTS = {
    "hospital": Contact("王强（基建处）", "0512-6778 2201", "jijianchu@sfyy.example.cn"),
    "resources": Contact("陈静（土地利用处）", "0512-6523 0187"),
}


def _text(zh: str, en: str) -> LocalText:
    return LocalText(zh, en)


def _criterion(
    zh: str, en: str, points: str, kind: Literal["subjective", "objective"] = "subjective", *children: Criterion
) -> Criterion:
    return Criterion(LocalText(zh, en), points, kind, children=list(children))


def _price(points: str, formula: PriceFormula) -> Criterion:
    return Criterion(_text("投标报价", "Bid price"), points, "price", formula)


#: Government procurement (goods, services): lowest valid price ÷ bid price × points.
LOWEST_PRICE_RATIO = PriceFormula("lowest_price_ratio")
#: Engineering: one point off per 1 % above the average valid price, half a point per 1 % below it.
WORKS_DEVIATION = PriceFormula("benchmark_deviation", "average", "1", "0.5")
#: Sales (land, equity): the higher the price the better; one point off per 1 % below the average, none above.
SALE_DEVIATION = PriceFormula("benchmark_deviation", "average", "0", "1")

#: Pass/fail checks of the lowest evaluated price method: the price decides among bids passing them all.
CHECKS = [
    Criterion(_text("资格审查", "Qualification review"), kind="check"),
    Criterion(_text("符合性审查", "Compliance review"), kind="check"),
    Criterion(_text("投标保证金", "Bid security"), kind="check"),
]


def works_scoring() -> list[Criterion]:
    """Comprehensive scoring of works: price 40 (deviation from the average), technical 45, commercial 15."""
    return [
        _price("40", WORKS_DEVIATION),
        _criterion(
            "技术标",
            "Technical proposal",
            "45",
            "subjective",
            _criterion("施工组织设计", "Construction plan", "20"),
            _criterion("质量与安全保证措施", "Quality and safety measures", "15"),
            _criterion("工期保证措施", "Schedule assurance", "10", "objective"),
        ),
        _criterion(
            "商务标",
            "Commercial standing",
            "15",
            "objective",
            _criterion("类似工程业绩", "Similar projects completed", "8", "objective"),
            _criterion("项目经理资格", "Project manager's qualifications", "7", "objective"),
        ),
    ]


def goods_scoring() -> list[Criterion]:
    """Comprehensive scoring of goods: price 30 (lowest-price ratio), specification 40, service 20, record 10."""
    return [
        _price("30", LOWEST_PRICE_RATIO),
        _criterion(
            "技术参数响应",
            "Compliance with the technical specification",
            "40",
            "objective",
            _criterion("核心参数（★）", "Core parameters (★)", "25", "objective"),
            _criterion("一般参数", "Other parameters", "15", "objective"),
        ),
        _criterion("售后服务与培训", "After-sales service and training", "20"),
        _criterion("同类项目业绩", "Similar contracts", "10", "objective"),
    ]


def services_scoring() -> list[Criterion]:
    """Comprehensive scoring of services: price 30 (lowest-price ratio), service plan 50, staff 12, record 8."""
    return [
        _price("30", LOWEST_PRICE_RATIO),
        _criterion(
            "服务方案",
            "Service plan",
            "50",
            "subjective",
            _criterion("服务组织与流程", "Organisation and procedures", "20"),
            _criterion("人员培训与考核", "Staff training and appraisal", "15"),
            _criterion("应急预案", "Emergency plans", "15"),
        ),
        _criterion("拟派人员配置", "Staff proposed", "12", "objective"),
        _criterion("类似服务业绩", "Similar contracts", "8", "objective"),
    ]


def sale_scoring(plan_zh: str, plan_en: str) -> list[Criterion]:
    """Comprehensive scoring of a sale (land, property): price 60 (higher is better), the buyer's plan 30,
    standing 10."""
    return [
        _price("60", SALE_DEVIATION),
        _criterion(
            plan_zh,
            plan_en,
            "30",
            "subjective",
            _criterion("总体方案", "Overall plan", "15"),
            _criterion("实施进度安排", "Timetable", "10"),
            _criterion("节能环保与社会责任", "Energy, environment and social commitments", "5"),
        ),
        _criterion("资信与履约能力", "Standing and capacity to perform", "10", "objective"),
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class DemoQuestion:
    #: The login of the bidder asking; the question is answered by the agent when ``answer`` is given.
    asker: str
    question: str
    answer: str | None = None
    #: A correction of the answer the agent published afterwards.
    correction: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DemoTender:
    reference: str
    category: Category
    #: The key of the purchaser in :data:`ORGANISATIONS`.
    purchaser: str
    title: LocalText
    description: LocalText
    lots: list[LotInput]
    specialties: list[Specialty]
    #: The bid deadline, in days from the moment of seeding (at the next 09:30 local time).
    days: int
    region: str = REGION
    committee_size: int = 5
    procedure: Procedure = Procedure.OPEN
    #: A table published with the tender documents (bill of quantities, requirements): file name, then rows.
    table: tuple[str, list[list[str]]] | None = None
    #: Bidders (logins) registering, in order; an invited tender invites every demo bidder.
    registrations: tuple[str, ...] = ()
    questions: tuple[DemoQuestion, ...] = ()
    #: An amendment publishing a second version of the tender documents, with this summary (zh, en).
    new_version: tuple[str, str] | None = None
    #: An amendment moving the deadline out this many days, with this summary.
    extension: tuple[int, str] | None = None
    #: Sealed bids submitted (each bidder must be among ``registrations``). An opened tender has at least three
    #: per lot: with fewer, a lot is not opened but tendered again (Implementing Regulations, art. 44).
    bids: tuple[DemoBid, ...] = ()
    #: ``opened``: the deadline is moved into the past and the bids opened, so the record can be seen.
    outcome: Literal["published", "draft", "cancelled", "opened"] = "published"
    cancel_reason: str = ""
    #: From the deadline to the evaluation. An opened tender's committee is drawn for an evaluation still ahead:
    #: its deadline moves back to an hour before seeding, so a day after it is the next day.
    evaluation_after: dt.timedelta = dt.timedelta(hours=1)
    #: An opened tender's committee: not drawn, drawn with the invitations awaiting the experts' answers, or drawn
    #: with every member accepted and declared (its ``specialties`` are named as the classification names them).
    committee: Literal["none", "invited", "declared"] = "none"


TENDERS: list[DemoTender] = [
    DemoTender(
        reference="SFJY-GC-2026-001",
        category=Category.WORKS,
        purchaser="hospital",
        title=_text(
            "示范市第一人民医院门诊楼改造工程",
            "Outpatient building renovation, Demo City First People's Hospital",
        ),
        description=_text(
            "本工程为示范市第一人民医院门诊楼（地上6层、地下1层，建筑面积约2.3万平方米）整体改造，包括主体结构抗震"
            "加固、给排水及暖通空调系统更新、强弱电及智能化改造、室内装饰装修和无障碍设施完善。施工期间门诊不停诊，"
            "投标人须提供分区分阶段施工方案。计划工期300日历天，质量要求合格，争创省优质工程。",
            "Complete renovation of the outpatient building of Demo City First People's Hospital (six storeys above "
            "ground, one below, about 23,000 m²): seismic strengthening, new plumbing and HVAC, electrical and "
            "building-automation upgrades, interior fit-out and accessibility works. The clinics stay open "
            "throughout, so bidders must propose phased works by zone. Duration 300 calendar days.",
        ),
        lots=[
            LotInput(
                1,
                _text("土建及装饰装修", "Structure and fit-out"),
                "12860000.00",
                "200000",
                Method.COMPREHENSIVE,
                works_scoring(),
            ),
            LotInput(
                2,
                _text("机电安装", "Mechanical and electrical installation"),
                "3850000.00",
                "70000",
                Method.LOWEST_PRICE,
                CHECKS,
            ),
        ],
        specialties=[Specialty("房屋建筑工程", 3), Specialty("工程造价", 2)],
        days=30,
        table=(
            "工程量清单.csv",
            [
                ["序号", "项目编码", "项目名称", "单位", "工程量", "备注"],
                ["1", "010515001", "现浇构件钢筋（抗震加固）", "t", "286.5", "HRB400"],
                ["2", "010502002", "构造柱混凝土C30", "m³", "412.0", ""],
                ["3", "011102003", "块料楼地面（防滑地砖）", "m²", "15840.0", "800×800"],
                ["4", "011302001", "吊顶天棚（铝扣板）", "m²", "14620.0", ""],
                ["5", "030801001", "镀锌钢管给水管道DN100", "m", "1260.0", ""],
                ["6", "030702001", "碳钢通风管道", "m²", "5320.0", "δ=0.75"],
                ["7", "030411004", "配线（WDZ-BYJ-4）", "m", "38600.0", "低烟无卤"],
            ],
        ),
        registrations=("bidder1", "bidder3"),
        bids=(
            DemoBid("bidder1", "12480000.00", 290, "200000.00", "含税价，工期 290 日历天"),
            DemoBid("bidder3", "12655000.00", 300, "200000.00"),
        ),
        questions=(
            DemoQuestion(
                "bidder1",
                "招标文件要求项目经理具有一级注册建造师（建筑工程专业），请问是否接受市政公用工程专业？",
                "不接受。本工程为房屋建筑工程，项目经理须具有建筑工程专业一级注册建造师执业资格及有效的安全生产考核合格证书。",
            ),
            DemoQuestion(
                "bidder3",
                "Is a site visit organised, and may bidders inspect the basement plant rooms?",
                "A site visit is held on the tenth day after publication at 09:00, meeting at the outpatient "
                "building's east entrance; the plant rooms are included. Bidders who cannot attend may arrange "
                "their own visit with the hospital's infrastructure office.",
                correction="A site visit is held on the tenth day after publication at 09:00, meeting at the "
                "outpatient building's north entrance (the east entrance is closed for works); the plant rooms are "
                "included. Bidders who cannot attend may arrange their own visit with the hospital's "
                "infrastructure office.",
            ),
            DemoQuestion("bidder1", "第二标段机电安装是否允许分包消防工程？"),
        ),
        new_version=(
            "招标文件第二版：更正第五章技术标准中的抗震设防烈度，并补充门诊分区施工时序图。",
            "Second version of the tender documents: corrected seismic intensity in chapter 5, phasing plan added",
        ),
        extension=(5, "应潜在投标人要求，投标截止时间及开标时间顺延5日。"),
    ),
    DemoTender(
        reference="SFJY-GC-2026-002",
        category=Category.WORKS,
        purchaser="citygroup",
        title=_text(
            "滨江路（人民桥至滨湖大道段）市政道路及排水管网改造工程",
            "Binjiang Road upgrade (Renmin Bridge to Binhu Avenue): roadway and drainage",
        ),
        description=_text(
            "改造道路全长2.6公里，红线宽度40米。主要内容包括沥青混凝土路面翻修、雨污分流管网改造（新建DN600—DN1200"
            "雨水管约5.1公里）、人行道及无障碍设施、路灯及景观绿化提升。工程分三个标段招标，投标人可投任一或多个标段。",
            "A 2.6 km urban road, 40 m between boundary lines: asphalt resurfacing, separation of storm and foul "
            "sewers (about 5.1 km of new DN600–DN1200 storm pipes), footways and accessibility, street lighting "
            "and planting. Three lots; bidders may bid for one or more of them.",
        ),
        lots=[
            LotInput(1, _text("道路工程", "Roadway"), "21500000.00", "400000", Method.COMPREHENSIVE, works_scoring()),
            LotInput(
                2,
                _text("排水管网工程", "Storm and foul sewers"),
                "16800000.00",
                "300000",
                Method.COMPREHENSIVE,
                works_scoring(),
            ),
            LotInput(
                3, _text("照明及绿化工程", "Lighting and planting"), "4200000.00", "80000", Method.LOWEST_PRICE, CHECKS
            ),
        ],
        specialties=[Specialty("市政公用工程", 4), Specialty("工程造价", 3)],
        committee_size=7,
        days=38,
        region="示范市滨江区",
        table=(
            "工程量清单.csv",
            [
                ["序号", "项目编码", "项目名称", "单位", "工程量", "备注"],
                ["1", "040203006", "沥青混凝土面层（AC-13C）", "m²", "104000.0", "4cm"],
                ["2", "040203006", "沥青混凝土面层（AC-20C）", "m²", "104000.0", "6cm"],
                ["3", "040501001", "钢筋混凝土管DN1200", "m", "1860.0", "Ⅲ级"],
                ["4", "040504001", "砌筑检查井", "座", "168", ""],
                ["5", "040801006", "路灯安装（双臂LED）", "套", "132", ""],
            ],
        ),
        registrations=("bidder1", "bidder2", "bidder3"),
        bids=(
            DemoBid("bidder2", "20865000.00", 240, "400000.00", "含税价", lot=1),
            DemoBid("bidder1", "21140000.00", 220, "400000.00", lot=1),
            DemoBid("bidder3", "20598500.00", 260, "400000.00", "含交通疏导措施费", lot=1),
            DemoBid("bidder1", "16352000.00", 200, "300000.00", "含管道闭水试验费", lot=2),
            DemoBid("bidder3", "16088600.00", 210, "300000.00", lot=2),
            DemoBid("bidder2", "16540000.00", 230, "300000.00", "含税价", lot=2),
            DemoBid("bidder3", "4012500.00", 110, "80000.00", lot=3),
            DemoBid("bidder2", "3968000.00", 120, "80000.00", "含智慧路灯单灯控制系统", lot=3),
            DemoBid("bidder1", "4105000.00", 100, "80000.00", lot=3),
        ),
        outcome="opened",
        evaluation_after=dt.timedelta(days=1),
        committee="declared",
        questions=(
            DemoQuestion(
                "bidder1",
                "第二标段现状管线资料是否随招标文件提供？",
                "已在招标文件附件3中提供现状地下管线物探资料，仅供参考，投标人应自行踏勘核实。",
            ),
        ),
    ),
    DemoTender(
        reference="SFJY-HW-2026-001",
        category=Category.GOODS,
        purchaser="hospital",
        title=_text(
            "示范市第一人民医院医用CT等影像设备采购项目",
            "CT scanner and imaging equipment for the First People's Hospital",
        ),
        description=_text(
            "采购256排（或以上）螺旋CT一台、数字化X射线摄影系统（DR）两台，含运输、安装、调试、验收、操作培训及"
            "不少于五年的原厂保修。设备须取得国家药品监督管理局医疗器械注册证，核心参数（★）不满足的投标无效。",
            "One spiral CT scanner with 256 or more slices and two digital radiography (DR) systems, delivered, "
            "installed, commissioned and accepted, with operator training and at least five years of "
            "manufacturer's warranty. Devices must be registered with the NMPA; a bid missing any core (★) "
            "parameter is rejected.",
        ),
        lots=[
            LotInput(
                1,
                _text("256排螺旋CT", "256-slice spiral CT scanner"),
                "16800000.00",
                "300000",
                Method.COMPREHENSIVE,
                goods_scoring(),
            ),
            LotInput(
                2,
                _text("数字化X射线摄影系统（DR）", "Digital radiography systems (DR)"),
                "2600000.00",
                "50000",
                Method.COMPREHENSIVE,
                goods_scoring(),
            ),
        ],
        # Government procurement of ¥10 million or more: seven members (MOF Order No. 87, art. 47).
        specialties=[Specialty("医疗设备", 5), Specialty("商务与财务（货物）", 2)],
        committee_size=7,
        days=28,
        table=(
            "技术参数表.csv",
            [
                ["标段", "序号", "参数", "要求", "类别"],
                ["1", "1", "探测器物理排数", "≥256排", "★"],
                ["1", "2", "机架旋转速度", "≤0.28 s/360°", "★"],
                ["1", "3", "球管热容量", "≥8 MHU", ""],
                ["2", "1", "平板探测器尺寸", "≥43 cm×43 cm", "★"],
                ["2", "2", "高压发生器功率", "≥65 kW", ""],
            ],
        ),
        registrations=("bidder2", "bidder3", "bidder1"),
        bids=(
            DemoBid("bidder2", "15980000.00", 90, "300000.00", "含五年原厂保修", lot=1),
            DemoBid("bidder3", "16350000.00", 120, "300000.00", lot=1),
            DemoBid("bidder1", "16620000.00", 100, "300000.00", "含机房改造", lot=1),
            DemoBid("bidder3", "2458000.00", 60, "50000.00", lot=2),
            DemoBid("bidder1", "2512000.00", 75, "50000.00", lot=2),
            DemoBid("bidder2", "2386000.00", 60, "50000.00", "两台合计，含税价", lot=2),
        ),
        outcome="opened",
        evaluation_after=dt.timedelta(days=1),
        committee="invited",
        questions=(
            DemoQuestion(
                "bidder2",
                "第一标段是否接受进口产品参与投标？",
                "本项目已经财政部门批准采购进口产品，接受进口产品投标，投标人须提供制造商授权书。",
            ),
        ),
    ),
    DemoTender(
        reference="SFJY-HW-2026-002",
        category=Category.GOODS,
        procedure=Procedure.INVITED,
        purchaser="hospital",
        title=_text("医院信息系统服务器及存储设备采购", "Servers and storage for the hospital information system"),
        description=_text(
            "采购国产化服务器12台、全闪存储两套及配套交换机，用于医院信息系统（HIS）及电子病历系统扩容，"
            "要求与现有虚拟化平台兼容。本项目为邀请招标，仅限受邀投标人报名。",
            "Twelve servers, two all-flash storage arrays and switches for expanding the hospital information "
            "system (HIS) and electronic medical records, compatible with the existing virtualisation platform. "
            "Invited tendering: only the bidders invited may register.",
        ),
        lots=[
            LotInput(
                1, _text("服务器及存储设备", "Servers and storage"), "3480000.00", "60000", Method.LOWEST_PRICE, CHECKS
            ),
        ],
        specialties=[Specialty("信息技术", 5)],
        days=25,
        registrations=("bidder2",),
    ),
    DemoTender(
        reference="SFJY-FW-2026-001",
        category=Category.SERVICES,
        purchaser="hospital",
        title=_text("示范市第一人民医院物业管理服务", "Facility management services, First People's Hospital"),
        description=_text(
            "为院区（建筑面积约18万平方米）提供为期三年的物业管理服务，包括保洁、秩序维护、医疗废物院内转运、"
            "设施设备运行维护等。服务期内按年度考核，考核不合格的可提前终止合同。",
            "Three years of facility management for the hospital campus (about 180,000 m²): cleaning, security, "
            "internal transfer of medical waste, and operation and maintenance of building services. Yearly "
            "appraisal; the contract may end early after a failed appraisal.",
        ),
        lots=[
            LotInput(
                1,
                _text("保洁及秩序维护", "Cleaning and security"),
                "9600000.00",
                "150000",
                Method.COMPREHENSIVE,
                services_scoring(),
            ),
            LotInput(
                2,
                _text("设施设备运行维护", "Building services operation and maintenance"),
                "5400000.00",
                "100000",
                Method.COMPREHENSIVE,
                services_scoring(),
            ),
        ],
        specialties=[Specialty("物业管理", 3), Specialty("财务管理", 2)],
        days=33,
        registrations=("bidder3", "bidder1"),
        questions=(
            DemoQuestion(
                "bidder3",
                "How many staff does the current contractor employ on site?",
                "About 260 people in total: 180 for cleaning, 56 for security and 24 for building services.",
            ),
        ),
    ),
    DemoTender(
        reference="SFJY-FW-2026-002",
        category=Category.SERVICES,
        purchaser="citygroup",
        title=_text("城市智慧停车平台运营服务", "Operation of the city's smart parking platform"),
        description=_text(
            "负责示范市主城区约1.2万个路内泊位及32个公共停车场的智慧停车平台运营，包括巡检、收费稽核、"
            "设备维护和客户服务，服务期两年。",
            "Operation of the smart parking platform of central Demo City for two years: about 12,000 on-street "
            "spaces and 32 public car parks; patrols, fee auditing, equipment maintenance and customer service.",
        ),
        lots=[
            LotInput(
                1,
                _text("智慧停车运营", "Smart parking operation"),
                "7200000.00",
                "120000",
                Method.COMPREHENSIVE,
                services_scoring(),
            ),
        ],
        specialties=[Specialty("信息技术", 2), Specialty("交通工程", 3)],
        days=35,
        registrations=("bidder2",),
        outcome="cancelled",
        cancel_reason=(
            "因城市停车管理体制调整，采购需求发生重大变化，经采购人申请，本项目终止招标，"
            "调整后将重新发布公告。已报名的投标人无需采取任何行动。"
        ),
    ),
    DemoTender(
        reference="SFJY-TD-2026-001",
        category=Category.LAND_USE,
        purchaser="resources",
        title=_text(
            "高新区科创路北侧SF2026-07号地块国有建设用地使用权招标出让",
            "Tender for state-owned construction land-use rights, plot SF2026-07, north of Kechuang Road",
        ),
        description=_text(
            "出让地块面积48,620平方米，用途为商务金融用地，出让年限40年，容积率1.5—3.0，建筑密度不大于40%，"
            "绿地率不小于20%。起始价即本标段预算金额。采用综合评标方式，综合得分最高者为竞得人。",
            "A plot of 48,620 m² for commercial and financial use, granted for 40 years; floor-area ratio 1.5 to "
            "3.0, site coverage at most 40 %, green space at least 20 %. The lot's budget is the starting price. "
            "The bidder with the highest combined score (price and development plan) wins.",
        ),
        lots=[
            LotInput(
                1,
                _text("SF2026-07号地块", "Plot SF2026-07"),
                "186000000.00",
                "3000000",
                Method.COMPREHENSIVE,
                sale_scoring("开发建设方案", "Development plan"),
            ),
        ],
        specialties=[Specialty("城乡规划", 2), Specialty("土地估价", 2), Specialty("法律", 1)],
        days=42,
        region="示范市高新区",
        table=(
            "地块规划指标.csv",
            [
                ["指标", "数值"],
                ["出让面积（平方米）", "48620"],
                ["用地性质", "商务金融用地"],
                ["容积率", "1.5—3.0"],
                ["建筑密度", "≤40%"],
                ["绿地率", "≥20%"],
                ["建筑限高（米）", "80"],
            ],
        ),
        registrations=("bidder1",),
        questions=(
            DemoQuestion(
                "bidder1",
                "竞得人能否成立项目公司负责开发建设？",
                "可以。竞得人可在签订出让合同前成立全资项目公司，由项目公司与出让人签订合同。",
            ),
        ),
    ),
    DemoTender(
        reference="SFJY-CQ-2026-001",
        category=Category.STATE_PROPERTY,
        purchaser="citygroup",
        title=_text(
            "示范市水务科技有限公司40%股权转让",
            "Transfer of a 40 % stake in Demo City Water Technology Co., Ltd.",
        ),
        description=_text(
            "转让方示范市城市建设投资集团有限公司拟转让其持有的示范市水务科技有限公司40%股权。标的企业注册资本"
            "1.5亿元，经评估的净资产为4.62亿元，转让底价为本标段预算金额。受让方须承继标的企业现有职工劳动合同。",
            "Demo City Urban Construction Investment Group offers its 40 % stake in Demo City Water Technology "
            "Co., Ltd. (registered capital CNY 150 million, appraised net assets CNY 462 million). The lot's "
            "budget is the reserve price. The buyer keeps the company's employment contracts.",
        ),
        lots=[
            LotInput(
                1,
                _text("40%股权", "40 % equity stake"),
                "185000000.00",
                "3500000",
                Method.COMPREHENSIVE,
                sale_scoring("受让方案", "Plan for the company"),
            ),
        ],
        specialties=[Specialty("资产评估", 2), Specialty("企业管理", 2), Specialty("法律", 1)],
        days=44,
        registrations=("bidder3",),
    ),
    DemoTender(
        reference="SFJY-HW-2026-003",
        category=Category.GOODS,
        purchaser="hospital",
        title=_text("负压救护车采购（草稿）", "Negative-pressure ambulances (draft)"),
        description=_text(
            "采购负压救护车四辆，含车载急救设备。本公告尚在编制中。",
            "Four negative-pressure ambulances with on-board emergency equipment. This notice is still a draft.",
        ),
        lots=[
            LotInput(
                1,
                _text("负压救护车", "Negative-pressure ambulances"),
                "2280000.00",
                "40000",
                Method.LOWEST_PRICE,
                CHECKS,
            ),
        ],
        specialties=[Specialty("医疗设备", 3), Specialty("汽车工程", 2)],
        days=40,
        outcome="draft",
    ),
]
