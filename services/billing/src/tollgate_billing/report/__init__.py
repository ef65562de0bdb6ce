"""The spend report: a team's generations summed per day, hour, end user, model, provider,
credential type or tag over a date range."""
