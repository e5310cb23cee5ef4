from django.db import models


class ArticleCategory(models.TextChoices):
    """Seed 001's knowledge-base categories."""

    GETTING_STARTED = "getting_started", "Getting Started"
    API_REFERENCE = "api_reference", "API Reference"
    TROUBLESHOOTING = "troubleshooting", "Troubleshooting"
    FAQ = "faq", "FAQ"
    SECURITY = "security", "Security"
    INTEGRATION = "integration", "Integration"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class MacroVisibility(models.TextChoices):
    PERSONAL = "personal", "Personal"
    TEAM = "team", "Team"
    SHARED = "shared", "Shared"


class MacroKind(models.TextChoices):
    REPLY = "reply", "Public reply"
    NOTE = "note", "Internal note"
    NONE = "none", "Actions only"


class KnownIssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    FIXED = "fixed", "Fixed"
