"""The JSON API: one blueprint module per resource, their schemas, auth and throttling."""
