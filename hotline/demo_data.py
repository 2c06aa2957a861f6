"""A small demo bank, so a first `make run` has customers, departments and agents to show."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from crm import service as crm
from crm.models import CustomerBase, Segment
from hotline.db import session_scope
from routing import service as routing
from routing.models import AgentCreate, AgentRole

log = logging.getLogger(__name__)

CUSTOMERS = [
    ("张伟", Segment.vip, "zh", ["+8613800138000"], "622588******1234"),
    ("李娜", Segment.standard, "zh", ["+8613900139000", "+861065550100"], "622202******5678"),
    ("Emily Chen", Segment.standard, "en", ["+8613700137000"], "438088******9012"),
    ("王芳", Segment.standard, "zh", ["+8615000150000"], None),
]
DEPARTMENTS = [
    ("card_centre", "信用卡中心", "Card centre"),
    ("tech_support", "技术支持", "Technical support"),
    ("loans", "贷款部", "Loans"),
    ("wealth", "财富管理部", "Wealth management"),
    ("compliance", "合规部", "Compliance"),
]
AGENTS = [
    (
        "陈静",
        "chenjing",
        {"cards": 8, "transactions": 6, "general": 5},
        ["zh", "en"],
        AgentRole.agent,
    ),
    ("刘洋", "liuyang", {"accounts": 7, "loans": 6, "general": 5}, ["zh"], AgentRole.agent),
    (
        "Sarah Lin",
        "sarah",
        {"complaints": 8, "cards": 5, "general": 6},
        ["en", "zh"],
        AgentRole.agent,
    ),
    ("赵磊", "zhaolei", {"complaints": 9, "general": 8}, ["zh"], AgentRole.supervisor),
]
# The demo bank's one password, so people can sign in and try the console; demo data only.
DEMO_PASSWORD = "hotline-demo-2026"


def load_demo_data(engine: Engine, *, now: datetime, only_if_empty: bool) -> bool:
    """Seed the demo bank; False if skipped because the database already has customers."""
    with session_scope(engine) as session:
        if only_if_empty and crm.count_customers(session=session) > 0:
            return False
        for name, segment, language, phones, account in CUSTOMERS:
            crm.create_customer(
                session=session,
                data=CustomerBase(
                    name=name,
                    segment=segment,
                    preferred_language=language,
                    account_ref_masked=account,
                ),
                phones=phones,
                now=now,
            )
        departments = {
            code: crm.create_department(session=session, code=code, name_zh=zh, name_en=en)
            for code, zh, en in DEPARTMENTS
        }
        for name, login, skills, languages, role in AGENTS:
            # Demo agents start offline: nobody is taking calls until they sign in.
            routing.create_agent(
                session=session,
                data=AgentCreate(
                    name=name,
                    login=login,
                    password=DEMO_PASSWORD,
                    skills=skills,
                    languages=languages,
                    role=role,
                    department_id=departments["card_centre"].id if "cards" in skills else None,
                ),
                now=now,
            )
    log.info("demo bank loaded: %d customers, %d agents", len(CUSTOMERS), len(AGENTS))
    return True
