"""Every state change of the commons app, one function per verb, grouped by concept."""
