"""`companyos`: the CompanyOS Support command line. It talks to the console's REST API (/api/v1/) only,
with a personal or integration token, and imports nothing of the console itself.

    config    ~/.config/companyos/config.toml and COMPANYOS_URL / COMPANYOS_TOKEN / COMPANYOS_TENANT
    client    the HTTP client: problem+json errors as exceptions with exit codes, Retry-After waits
    main      the commands: `auth login|status`, `support create|show|list|reply|inspect|attach`
    bundle    the diagnostic trace bundle's safe reader and inspector (pure; the console imports it too)

Exit codes: 0 done, 1 other error, 2 bad usage (a wrong option), 3 authentication or permission,
4 not found, 5 refused as invalid (400, 409 conflict, 413, 415, 422; a bundle `support inspect` rejects
as unsafe or invalid), 6 rate limited, 7 network, 8 server error, 9 a bundle carrying unredacted
personal data or secrets (`support inspect`).
"""

__version__ = "1.0.0"
