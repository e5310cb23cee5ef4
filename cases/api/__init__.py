"""The REST API's case resources (/api/v1/cases/…), on companyos.api's plumbing:

serializers   what a case, its timeline and its attachments look like; what a create, a transition,
              a reply and a classification change take
views         the endpoints: thin, the queue's own FilterSet for the list, cases.services for every
              write (no second write path), every read audited with the token's name
urls          the routes, included under /api/v1/ (namespace `api_cases`)
telemetry     the telemetry slice a create can attach (`telemetry_since`)
"""
