"""`companyos`: the CompanyOS Support command line. It talks to the console's REST API (/api/v1/) only,
with a personal or integration token, and imports nothing of the console itself.

    config    ~/.config/companyos/config.toml and COMPANYOS_URL / COMPANYOS_TOKEN / COMPANYOS_TENANT
    client    the HTTP client: problem+json errors as exceptions with exit codes, Retry-After waits
    main      the commands: `auth login|status`, `support create|show|list|reply` (room for more, e.g.
              the diagnostics issue's `support inspect`)

Exit codes: 0 done, 1 other error, 2 bad usage (a wrong option), 3 authentication or permission,
4 not found, 5 refused as invalid (400, 409 conflict, 413, 415, 422), 6 rate limited, 7 network,
8 server error.
"""

__version__ = "1.0.0"
