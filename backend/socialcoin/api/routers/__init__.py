"""One router per actor and subject; ROUTERS is the list the app mounts."""

from . import (
    auth,
    merchants,
    municipality_chain,
    municipality_money,
    municipality_outbox,
    municipality_people,
    municipality_programmes,
    municipality_reports,
    municipality_rewards,
    organisations,
    public,
    public_research,
    residents_money,
    residents_profile,
    residents_tasks,
)

ROUTERS = [
    auth.router,
    public.router,
    public_research.router,
    municipality_people.router,
    municipality_programmes.router,
    municipality_rewards.router,
    municipality_money.router,
    municipality_reports.router,
    municipality_chain.router,
    municipality_outbox.router,
    organisations.router,
    residents_profile.router,
    residents_tasks.router,
    residents_money.router,
    merchants.router,
]
