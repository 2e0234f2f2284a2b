"""Emergency models, one module per area: incidents, plans, tasks, shelters and reviews
(`incidents`); depots, items, the stock ledger, requests and distributions (`reserves`); people,
teams, call-ups and the vulnerable register (`people`)."""

from renzhi.emergency.models.incidents import *  # noqa: F403
from renzhi.emergency.models.people import *  # noqa: F403
from renzhi.emergency.models.reserves import *  # noqa: F403
