"""Every state change in appeals. One module per concern, re-exported here:

- `cases`: the case itself (intake, dispatch, handling, feedback, side transitions, SLA job)
- `config`: categories, routing rules and SLA rules (admin)
- `imports`: Excel/CSV bulk intake
"""

from renzhi.appeals.actions import config, imports  # noqa: F401 (modules: actions.config.…)
from renzhi.appeals.actions.cases import *  # noqa: F403
from renzhi.appeals.actions.cases import __all__ as _cases_all

__all__ = list(_cases_all)
