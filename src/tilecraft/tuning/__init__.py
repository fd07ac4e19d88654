"""What the tuners share and what the operator library consults: dispatch contexts that answer
"which configuration for this workload on this target?" (tuned records, or None for the default).

This layer sits below topi and relay (driver < tuning < topi < relay), because the operator
strategies and, later, the operator templates ask it for their configuration.
"""

from .dispatch import ApplyConfig, DispatchContext, current_context, workload_key  # noqa: F401
