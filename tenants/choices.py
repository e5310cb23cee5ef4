from django.db import models


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"
    PUBLIC_SECTOR = "public_sector", "Public sector"


class SupportTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class Plan(models.TextChoices):
    FREE = "free", "Free"
    TEAM = "team", "Team"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


class BillingStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TRIAL = "trial", "Trial"
    PAST_DUE = "past_due", "Past due"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


class Region(models.TextChoices):
    EU_WEST = "eu-west", "EU West"
    EU_NORTH = "eu-north", "EU North"
    US_EAST = "us-east", "US East"
    US_WEST = "us-west", "US West"
    APAC = "apac", "APAC"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    PHONE = "phone", "Phone"
    WEB = "web", "Web"
    WIDGET = "widget", "In-app widget"
    API = "api", "API"
    CLI = "cli", "CLI"


class AuthMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    SSO = "sso", "SSO"
    API_KEY = "api_key", "API key"
    OAUTH = "oauth", "OAuth"


class Health(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GREEN = "green", "Healthy"
    AMBER = "amber", "Degraded"
    RED = "red", "Unhealthy"
