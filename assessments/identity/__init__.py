"""Sign-in and identity: SSO, the second factor, personal API tokens, the settings page."""
