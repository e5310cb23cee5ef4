"""The REST API's shared plumbing (/api/v1/): what every resource's views stand on. Imports no app.

    tokens        personal API tokens: create (shown once, stored hashed), revoke, list, authenticate
    auth          DRF authentication by a personal token (`Authorization: Bearer cop_…`)
    problems      errors as RFC 9457 application/problem+json (the exception handler and `Problem`)
    parsers       JSON bodies with a size limit (413), unique keys, no lone surrogates
    throttling    rate limits per token, counted in the cache (Redis): 429 with Retry-After
    idempotency   `Idempotency-Key` on creates: a repeated key answers the first result
    pagination    keyset (cursor) pagination over any ordering, no COUNT
    views         `APIBase`: the base view of every resource (the above wired together, the audit
                  actor set from the token), `principal_of` (who is calling, for audit entries)
    schema        drf-spectacular hooks: only the resource API in the schema, problem responses on every
                  operation

The resources live with their apps (cases.api, tenants.api_resources) and declare their audit like
every view (companyos.access).
"""
