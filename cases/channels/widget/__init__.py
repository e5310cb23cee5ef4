"""The in-app help widget's panel (issue 12, point 8), served by the console inside the host product's page.

The host page includes `static/widget/widget.js` with its backend's signed context
(`data-tenant-context`, tenants.widget); the script opens an iframe on `/widget/panel/` and passes
what the page knows (error ids, trace links, URL, browser, app version) in the iframe URL's fragment
(never sent to a server) and later by postMessage. Map:

- `context`    the host's signed context checked (tenants.widget.verify_context, the tenant among
               the integration's), the "follow replies" link (django.core.signing), the panel's CSP
               (`frame-ancestors` = the integration's allowed origins; the rest of the console keeps
               'none').
- `forms`      the contact form and the page facts it carries.
- `views`      the panel (contact support → cases.services.case_create, channel "widget") and the
               thread behind the signed link (the case, its public replies, a follow-up message).
- `selectors`  the thread's reads.
- `extensions` `register_panel_section`: the hook through which the knowledge base (runbooks) adds its
               search above the contact form; empty, the panel shows the form alone.

No console login anywhere: the panel's authority is the host's signature, the thread's the signed
link. So no cookie is needed (the panel lives in a third-party iframe) and the views are CSRF-exempt:
a forged cross-site POST carries no ambient authority, only what it signs itself.
"""
